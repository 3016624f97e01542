// Rotary position embeddings, as transformers computes them for Llama, Mistral and Qwen2.
//
// inv_freq[i] = 1 / theta^(2i / head_dim) in f32 (then the "llama3" rescaling when the
// config has it); angle = f32(position * inv_freq[i]); the rotation pairs element i with
// element i + head_dim/2 (transformers' rotate_half convention, not interleaved pairs):
//   out[i]     = x[i] cos - x[i+half] sin
//   out[i+half] = x[i+half] cos + x[i] sin
#pragma once

#include <cstddef>
#include <vector>

#include "model/config.h"

namespace weld {

std::vector<float> rope_inv_freq(const ModelConfig& config);

// cos and sin of every (position, i) for positions [0, n_positions), each [n_positions, half].
struct RopeTable {
  std::size_t half = 0;
  std::vector<float> cos, sin;
};
RopeTable rope_table(const ModelConfig& config, std::size_t n_positions);

// Rotates `n_heads` heads of `head_dim` values in `x` (contiguous) for `position`.
// inverse = true applies the transposed rotation (the backward pass).
void rope_apply(const RopeTable& table, std::size_t position, float* x, std::size_t n_heads,
                bool inverse) noexcept;

}  // namespace weld
