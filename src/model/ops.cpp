#include "model/ops.h"

#include <algorithm>
#include <cmath>

#include "util/parallel.h"

namespace weld {

void for_row_blocks(std::size_t rows, unsigned threads,
                    const std::function<void(std::size_t, std::size_t)>& fn) {
  constexpr std::size_t kRowsPerTask = 64;  // enough work to be worth a thread hand-off
  const std::size_t blocks = (rows + kRowsPerTask - 1) / kRowsPerTask;
  if (blocks <= 1 || threads <= 1) return fn(0, rows);
  parallel_for(blocks, threads, [&](std::size_t b, unsigned) {
    fn(b * kRowsPerTask, std::min(rows, (b + 1) * kRowsPerTask));
  });
}

void rmsnorm(const float* x, const float* weight, std::size_t rows, std::size_t n, float eps,
             float* y, float* rstd) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float* yr = y + r * n;
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(xr[i]) * xr[i];
    const float variance = static_cast<float>(sum / static_cast<double>(n));
    const float s = 1.0f / std::sqrt(variance + eps);
    rstd[r] = s;
    for (std::size_t i = 0; i < n; ++i) yr[i] = weight[i] * (xr[i] * s);
  }
}

void rmsnorm_backward(const float* x, const float* weight, const float* rstd, const float* dy,
                      std::size_t rows, std::size_t n, float* dx, float* dweight) noexcept {
  for (std::size_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    const float* dyr = dy + r * n;
    float* dxr = dx + r * n;
    const float s = rstd[r];
    double dot = 0;  // sum_i weight_i dy_i x_i
    for (std::size_t i = 0; i < n; ++i) {
      dot += static_cast<double>(weight[i]) * dyr[i] * xr[i];
      dweight[i] += dyr[i] * xr[i] * s;
    }
    const float k = static_cast<float>(dot / static_cast<double>(n)) * s * s * s;
    for (std::size_t i = 0; i < n; ++i) dxr[i] += s * weight[i] * dyr[i] - k * xr[i];
  }
}

void swiglu(const float* gate, const float* up, std::size_t n, float* out) noexcept {
  for (std::size_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void swiglu_backward(const float* gate, const float* up, const float* dout, std::size_t n,
                     float* dgate, float* dup) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    const float sig = 1.0f / (1.0f + std::exp(-gate[i]));
    const float silu = gate[i] * sig;
    dup[i] = dout[i] * silu;
    dgate[i] = dout[i] * up[i] * sig * (1.0f + gate[i] * (1.0f - sig));
  }
}

}  // namespace weld
