// The hyperparameters of a Llama-family decoder, read from a Hugging Face config.json.
//
// Accepted architectures: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM (which
// adds biases to the q/k/v projections). Every value that would change the computation and
// that weld does not implement (another architecture, hidden_act other than silu, Llama's
// attention_bias or mlp_bias, a rope_scaling type other than "llama3", Qwen2's sliding
// window) is an error naming the key and the value, never silently ignored.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace weld {

// rope_scaling {"rope_type": "llama3", ...}, as Llama 3.1 configs give it.
struct Llama3RopeScaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_position_embeddings = 8192;
};

struct ModelConfig {
  std::string architecture;  // "LlamaForCausalLM", ...
  std::size_t hidden = 0;
  std::size_t intermediate = 0;
  std::size_t layers = 0;
  std::size_t heads = 0;
  std::size_t kv_heads = 0;
  std::size_t head_dim = 0;  // config "head_dim", default hidden / heads
  std::size_t vocab = 0;
  std::size_t max_positions = 0;  // max_position_embeddings
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  std::optional<Llama3RopeScaling> llama3_scaling;
  bool qkv_bias = false;  // Qwen2
  bool tie_embeddings = false;
  // Mistral's sliding_window: a query attends only to the last `sliding_window` positions
  // (itself included). 0 = no window.
  std::size_t sliding_window = 0;

  std::size_t q_dim() const { return heads * head_dim; }
  std::size_t kv_dim() const { return kv_heads * head_dim; }
};

// Throws weld::Error naming the key (and value) that is missing, malformed or unsupported.
ModelConfig parse_model_config(const nlohmann::json& config);

}  // namespace weld
