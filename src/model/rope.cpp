#include "model/rope.h"

#include <cmath>
#include <numbers>

namespace weld {
namespace {

// transformers' _compute_llama3_parameters, in f32 as it runs there.
void apply_llama3(const Llama3RopeScaling& s, std::vector<float>& inv_freq) {
  const double old_len = s.original_max_position_embeddings;
  const double low_wavelen = old_len / s.low_freq_factor;
  const double high_wavelen = old_len / s.high_freq_factor;
  const float factor = static_cast<float>(s.factor);
  for (float& f : inv_freq) {
    const float wavelen = static_cast<float>(2 * std::numbers::pi) / f;
    if (wavelen > low_wavelen) {
      f = f / factor;
    } else if (wavelen >= high_wavelen) {
      const float smooth = static_cast<float>((old_len / wavelen - s.low_freq_factor) /
                                              (s.high_freq_factor - s.low_freq_factor));
      f = (1 - smooth) * f / factor + smooth * f;
    }
  }
}

}  // namespace

std::vector<float> rope_inv_freq(const ModelConfig& config) {
  const std::size_t half = config.head_dim / 2;
  std::vector<float> inv_freq(half);
  const float theta = static_cast<float>(config.rope_theta);
  for (std::size_t i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(config.head_dim);
    inv_freq[i] = 1.0f / std::pow(theta, exponent);
  }
  if (config.llama3_scaling) apply_llama3(*config.llama3_scaling, inv_freq);
  return inv_freq;
}

RopeTable rope_table(const ModelConfig& config, std::size_t n_positions) {
  const std::vector<float> inv_freq = rope_inv_freq(config);
  RopeTable t;
  t.half = inv_freq.size();
  t.cos.resize(n_positions * t.half);
  t.sin.resize(n_positions * t.half);
  for (std::size_t p = 0; p < n_positions; ++p)
    for (std::size_t i = 0; i < t.half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq[i];
      t.cos[p * t.half + i] = static_cast<float>(std::cos(static_cast<double>(angle)));
      t.sin[p * t.half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  return t;
}

void rope_apply(const RopeTable& t, std::size_t position, float* x, std::size_t n_heads,
                bool inverse) noexcept {
  const float* c = &t.cos[position * t.half];
  const float* s = &t.sin[position * t.half];
  const float sign = inverse ? -1.0f : 1.0f;
  for (std::size_t h = 0; h < n_heads; ++h) {
    float* v = x + h * 2 * t.half;
    for (std::size_t i = 0; i < t.half; ++i) {
      const float a = v[i], b = v[i + t.half], si = sign * s[i];
      v[i] = a * c[i] - b * si;
      v[i + t.half] = b * c[i] + a * si;
    }
  }
}

}  // namespace weld
