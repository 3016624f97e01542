// The matrix products of the forward and backward passes, on OpenBLAS's cblas_sgemm.
//
// All matrices are row major with an explicit leading dimension (elements between rows),
// so a head's slice of a [T, heads * head_dim] activation is passed without copying.
// The time spent inside sgemm is accumulated process-wide, for benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weld {

// C[m,n] = beta * C + A[m,k] * B[n,k]^T   (a Linear layer: y = x W^T)
void gemm_nt(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
             const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);
// C[m,n] = beta * C + A[m,k] * B[k,n]
void gemm_nn(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
             const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);
// C[m,n] = beta * C + A[k,m]^T * B[k,n]   (a weight gradient: dW = dy^T x)
void gemm_tn(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
             const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc);

// Threads OpenBLAS uses inside one sgemm (process-wide). Results do not depend on it:
// OpenBLAS splits the rows and columns of C between threads, never the sum over k.
void set_blas_threads(unsigned threads);

// Nanoseconds spent inside sgemm since the process started (all threads).
std::uint64_t gemm_nanoseconds();

}  // namespace weld
