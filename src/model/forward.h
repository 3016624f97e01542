// The forward pass of a Llama-family decoder over a Batch, in f32:
//   x = embed[tokens]
//   per layer: x += o_proj(attention(rope(q_proj(n1)), rope(k_proj(n1)), v_proj(n1)))
//              x += down_proj(silu(gate_proj(n2)) * up_proj(n2))
//     with n1 = rmsnorm(x) (input_layernorm), n2 = rmsnorm(x) (post_attention_layernorm)
//   hidden = rmsnorm(x) (model.norm); logits = hidden lm_head^T
// Matrix products go to sgemm; results do not depend on the thread count.
#pragma once

#include <cstddef>
#include <vector>

#include "model/batch.h"
#include "model/model.h"
#include "model/rope.h"

namespace weld {

// What one layer's backward pass needs, [rows, ...] each.
struct LayerCache {
  std::vector<float> x_in, n1, rstd1, q, k, v, att, x_mid, n2, rstd2, gate, up, act;
};

// Everything the backward pass needs. Holds a few times the activations of every layer:
// for evaluation alone, pass no cache and one layer's worth is reused.
struct ForwardCache {
  std::vector<LayerCache> layers;
  std::vector<float> x_final, rstd_final;
  RopeTable rope;
};

// The final normalised hidden states, [rows, hidden]. REQUIRES: every token < vocab (the
// caller checks its input). `cache` may be null.
std::vector<float> forward_hidden(const Model& model, const Batch& batch, unsigned threads,
                                  ForwardCache* cache);

// logits[r, v] for `rows` rows of hidden states: [rows, vocab].
std::vector<float> compute_logits(const Model& model, const float* hidden, std::size_t rows);

// The log-probability of targets[r] at each row r whose target is not kNoTarget (then 0),
// computed from the logits in blocks of rows so that rows x vocab is never held at once.
constexpr std::uint32_t kNoTarget = 0xffffffffu;
std::vector<double> target_log_probs(const Model& model, const std::vector<float>& hidden,
                                     const std::vector<std::uint32_t>& targets, unsigned threads);

// log softmax(row)[target], in double, for a row of n logits.
double log_softmax_at(const float* row, std::size_t n, std::uint32_t target) noexcept;

}  // namespace weld
