#include "methods/consensus.h"

namespace weld {

void elect_sign_and_merge(std::span<const float* const> weighted, std::span<const double> weights,
                          float* mixed, float* divisor, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) {
    float sum = 0.0f;
    for (const float* wd : weighted) sum += wd[j];
    const bool positive = sum >= 0.0f;
    float kept = 0.0f;
    float kept_weight = 0.0f;
    for (std::size_t i = 0; i < weighted.size(); ++i) {
      const float v = weighted[i][j];
      if ((positive && v > 0.0f) || (!positive && v < 0.0f)) {
        kept += v;
        kept_weight += static_cast<float>(weights[i]);
      }
    }
    mixed[j] = kept;
    divisor[j] = kept_weight == 0.0f ? 1.0f : kept_weight;
  }
}

}  // namespace weld
