// The parameters of a Llama-family model, as f32 arrays with their Hugging Face names.
//
// Matrices keep the PyTorch layout: a Linear weight is [out_features, in_features], row
// major, so y = x W^T. The same struct holds gradients and Fisher diagonals (zeros_like).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "model/config.h"

namespace weld {

class ModelDir;

struct Param {
  std::string name;                // e.g. "model.layers.0.self_attn.q_proj.weight"
  std::vector<std::size_t> shape;  // empty for an absent tensor (no bias, tied lm_head)
  std::vector<float> data;
  bool present() const { return !shape.empty(); }
};

struct LayerWeights {
  Param attn_norm, wq, wk, wv, wo, bq, bk, bv;  // bq/bk/bv only with config.qkv_bias
  Param mlp_norm, w_gate, w_up, w_down;
};

struct Weights {
  Param embed;  // [vocab, hidden]
  std::vector<LayerWeights> layers;
  Param final_norm;
  Param lm_head;  // [vocab, hidden]; absent when tied to embed

  // Every present parameter, in file order (embed, layers, norm, lm_head).
  std::vector<Param*> params();
  std::vector<const Param*> params() const;
  const Param& output() const { return lm_head.present() ? lm_head : embed; }
  std::size_t n_params() const;
};

// The names and shapes `config` implies, all data zero.
Weights zero_weights(const ModelConfig& config);
// Same names and shapes as `w`, all zero (for gradients and accumulators).
Weights zeros_like(const Weights& w);

// Reads every parameter from `model`, converting F32/F16/BF16 to f32. Errors name the tensor:
// missing, wrong shape (expected against actual) or a non-float dtype. A tied model may
// still carry an lm_head.weight; it is ignored, as transformers ignores it.
Weights load_weights(const ModelDir& model, const ModelConfig& config, unsigned threads);

}  // namespace weld
