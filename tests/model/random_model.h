// Small random models for the model and eval tests: a ModelConfig of each architecture,
// weights drawn from a counter RNG, and writing them out as a model directory.
#pragma once

#include <string>

#include "io/dtype.h"
#include "model/model.h"
#include "support/tiny_model.h"
#include "tensor/convert.h"
#include "tensor/rng.h"

namespace weld::test {

// config.json for `c` as transformers would write it.
inline nlohmann::json config_json(const ModelConfig& c) {
  nlohmann::json j = {{"architectures", {c.architecture}},
                      {"hidden_size", c.hidden},
                      {"intermediate_size", c.intermediate},
                      {"num_hidden_layers", c.layers},
                      {"num_attention_heads", c.heads},
                      {"num_key_value_heads", c.kv_heads},
                      {"head_dim", c.head_dim},
                      {"vocab_size", c.vocab},
                      {"max_position_embeddings", c.max_positions},
                      {"rms_norm_eps", c.rms_norm_eps},
                      {"rope_theta", c.rope_theta},
                      {"hidden_act", "silu"},
                      {"tie_word_embeddings", c.tie_embeddings}};
  if (c.sliding_window) j["sliding_window"] = c.sliding_window;
  if (c.llama3_scaling)
    j["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", c.llama3_scaling->factor},
        {"low_freq_factor", c.llama3_scaling->low_freq_factor},
        {"high_freq_factor", c.llama3_scaling->high_freq_factor},
        {"original_max_position_embeddings", c.llama3_scaling->original_max_position_embeddings}};
  return j;
}

// A tiny config of `architecture` (GQA: 4 heads over 2 key/value heads).
inline ModelConfig tiny_config(const std::string& architecture) {
  ModelConfig c;
  c.architecture = architecture;
  c.hidden = 16;
  c.intermediate = 24;
  c.layers = 2;
  c.heads = 4;
  c.kv_heads = 2;
  c.head_dim = 4;
  c.vocab = 19;
  c.max_positions = 64;
  c.rms_norm_eps = 1e-5;
  c.rope_theta = 10000;
  c.qkv_bias = architecture == "Qwen2ForCausalLM";
  return c;
}

// Weights ~ N(0, scale^2), norm gains ~ 1 + N(0, 0.1^2), from `seed`.
inline Model random_model(const ModelConfig& c, std::uint64_t seed, float scale = 0.3f) {
  Model m{c, zero_weights(c)};
  for (Param* p : m.weights.params()) {
    const CounterRng rng(seed, p->name);
    const bool norm = p->shape.size() == 1 && p->name.find("bias") == std::string::npos;
    for (std::size_t i = 0; i < p->data.size(); ++i)
      p->data[i] = norm ? 1.0f + 0.1f * rng.normal(i) : scale * rng.normal(i);
  }
  return m;
}

// Writes `m` to `dir` in `dtype` and rounds m's weights to what was written.
inline void write_model(const std::string& dir, Model& m, DType dtype = DType::kF32,
                        const nlohmann::json& config = nullptr) {
  std::vector<TinyTensor> tensors;
  for (Param* p : m.weights.params()) {
    round_through(dtype, p->data.data(), p->data.size());
    tensors.push_back(
        {p->name, std::vector<std::uint64_t>(p->shape.begin(), p->shape.end()), p->data, dtype});
  }
  write_tiny_model(dir, tensors, config.is_null() ? config_json(m.config) : config);
}

// n token ids below `vocab` that repeat irregularly, as test data.
inline std::vector<std::uint32_t> token_stream(std::size_t n, std::size_t vocab) {
  std::vector<std::uint32_t> t(n);
  for (std::size_t i = 0; i < n; ++i) t[i] = static_cast<std::uint32_t>((i * 7 + i / 3) % vocab);
  return t;
}

}  // namespace weld::test
