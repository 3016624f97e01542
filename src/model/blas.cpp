#include "model/blas.h"

#include <cblas.h>

#include <atomic>
#include <chrono>

namespace weld {
namespace {

std::atomic<std::uint64_t> g_gemm_ns{0};

// Times one sgemm call into g_gemm_ns.
class GemmTimer {
 public:
  GemmTimer() : start_(std::chrono::steady_clock::now()) {}
  ~GemmTimer() {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now() - start_);
    g_gemm_ns.fetch_add(static_cast<std::uint64_t>(ns.count()), std::memory_order_relaxed);
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

blasint to_int(std::size_t v) { return static_cast<blasint>(v); }

void sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, std::size_t m, std::size_t n, std::size_t k,
           const float* a, std::size_t lda, const float* b, std::size_t ldb, float beta, float* c,
           std::size_t ldc) {
  if (m == 0 || n == 0) return;
  GemmTimer timer;
  cblas_sgemm(CblasRowMajor, ta, tb, to_int(m), to_int(n), to_int(k), 1.0f, a, to_int(lda), b,
              to_int(ldb), beta, c, to_int(ldc));
}

}  // namespace

void gemm_nt(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
             const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  sgemm(CblasNoTrans, CblasTrans, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

void gemm_nn(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
             const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  sgemm(CblasNoTrans, CblasNoTrans, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

void gemm_tn(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda,
             const float* b, std::size_t ldb, float beta, float* c, std::size_t ldc) {
  sgemm(CblasTrans, CblasNoTrans, m, n, k, a, lda, b, ldb, beta, c, ldc);
}

void set_blas_threads(unsigned threads) {
  openblas_set_num_threads(static_cast<int>(threads == 0 ? 1 : threads));
}

std::uint64_t gemm_nanoseconds() { return g_gemm_ns.load(std::memory_order_relaxed); }

}  // namespace weld
