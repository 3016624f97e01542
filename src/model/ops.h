// Row-wise pieces of the decoder: RMSNorm and the SwiGLU gate, forward and backward.
// The kernels work on `rows` rows of `n` contiguous floats and never throw or allocate;
// for_row_blocks spreads a kernel over threads.
#pragma once

#include <cstddef>
#include <functional>

namespace weld {

// fn(begin, end) over [0, rows) in blocks of 64 rows, on `threads` threads when there are
// several blocks. Each row's result must not depend on the block it falls in.
void for_row_blocks(std::size_t rows, unsigned threads,
                    const std::function<void(std::size_t, std::size_t)>& fn);

// y = x * rsqrt(mean(x^2) + eps) * weight, as transformers' LlamaRMSNorm (in f32).
// rstd[r] receives rsqrt(mean(x^2) + eps) of each row.
void rmsnorm(const float* x, const float* weight, std::size_t rows, std::size_t n, float eps,
             float* y, float* rstd) noexcept;
// Given dy, adds the gradient to dx (dx += ...) and to dweight (dweight += ...).
void rmsnorm_backward(const float* x, const float* weight, const float* rstd, const float* dy,
                      std::size_t rows, std::size_t n, float* dx, float* dweight) noexcept;

// out = silu(gate) * up, elementwise over n values.
void swiglu(const float* gate, const float* up, std::size_t n, float* out) noexcept;
// From d(out): dgate and dup (overwritten).
void swiglu_backward(const float* gate, const float* up, const float* dout, std::size_t n,
                     float* dgate, float* dup) noexcept;

}  // namespace weld
