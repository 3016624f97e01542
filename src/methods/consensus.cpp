#include "methods/consensus.h"

#include <algorithm>
#include <array>

#include "tensor/vector_clones.h"

namespace weld {
namespace {

// Elements per block: the sums and the kept values of a block stay in L1, and each loop over
// a block is a straight pass over one model that the compiler vectorises.
constexpr std::size_t kBlock = 2048;

}  // namespace

WELD_VECTOR_CLONES void elect_sign_and_merge(std::span<const float* const> weighted, std::span<const double> weights,
                          float* mixed, float* divisor, std::size_t n) noexcept {
  std::array<float, kBlock> sum, kept, kept_weight;
  for (std::size_t begin = 0; begin < n; begin += kBlock) {
    const std::size_t m = std::min(kBlock, n - begin);
    std::fill_n(sum.begin(), m, 0.0f);
    for (const float* wd : weighted)
      for (std::size_t j = 0; j < m; ++j) sum[j] += wd[begin + j];
    std::fill_n(kept.begin(), m, 0.0f);
    std::fill_n(kept_weight.begin(), m, 0.0f);
    for (std::size_t i = 0; i < weighted.size(); ++i) {
      const float* v = weighted[i] + begin;
      const float w = static_cast<float>(weights[i]);
      for (std::size_t j = 0; j < m; ++j) {
        // Same sign as the elected one, and not zero (an exact zero has no sign).
        const bool agrees = v[j] * (sum[j] >= 0.0f ? 1.0f : -1.0f) > 0.0f;
        kept[j] += agrees ? v[j] : 0.0f;
        kept_weight[j] += agrees ? w : 0.0f;
      }
    }
    for (std::size_t j = 0; j < m; ++j) {
      mixed[begin + j] = kept[j];
      divisor[begin + j] = kept_weight[j] == 0.0f ? 1.0f : kept_weight[j];
    }
  }
}

}  // namespace weld
