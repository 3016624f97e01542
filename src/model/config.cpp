#include "model/config.h"

#include <array>
#include <string_view>

#include "util/error.h"

namespace weld {
namespace {

constexpr std::array<std::string_view, 3> kArchitectures = {
    "LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM"};

std::size_t get_size(const nlohmann::json& c, const char* key) {
  const auto it = c.find(key);
  if (it == c.end()) fail("config.json has no \"{}\"", key);
  if (!it->is_number_integer() || it->get<long long>() <= 0)
    fail("config.json \"{}\" must be a positive integer, got {}", key, it->dump());
  return it->get<std::size_t>();
}

double get_number(const nlohmann::json& c, const char* key, double fallback) {
  const auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  if (!it->is_number() || it->get<double>() <= 0)
    fail("config.json \"{}\" must be a positive number, got {}", key, it->dump());
  return it->get<double>();
}

bool get_bool(const nlohmann::json& c, const char* key, bool fallback) {
  const auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) fail("config.json \"{}\" must be true or false, got {}", key, it->dump());
  return it->get<bool>();
}

std::string read_architecture(const nlohmann::json& c) {
  const auto it = c.find("architectures");
  if (it == c.end() || !it->is_array() || it->size() != 1 || !it->front().is_string())
    fail("config.json \"architectures\" must list one architecture");
  const std::string arch = it->front().get<std::string>();
  for (std::string_view known : kArchitectures)
    if (arch == known) return arch;
  fail(
      "unsupported architecture '{}' (weld eval knows LlamaForCausalLM, MistralForCausalLM, "
      "Qwen2ForCausalLM)",
      arch);
}

std::optional<Llama3RopeScaling> read_rope_scaling(const nlohmann::json& c) {
  const auto it = c.find("rope_scaling");
  if (it == c.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) fail("config.json \"rope_scaling\" must be an object, got {}", it->dump());
  auto type = it->find("rope_type");
  if (type == it->end()) type = it->find("type");
  const std::string name = type != it->end() && type->is_string() ? type->get<std::string>() : "";
  if (name == "default") return std::nullopt;
  if (name != "llama3")
    fail("unsupported rope_scaling type {} (weld knows \"llama3\")",
         type == it->end() ? std::string("(none)") : type->dump());
  Llama3RopeScaling s;
  s.factor = get_number(*it, "factor", s.factor);
  s.low_freq_factor = get_number(*it, "low_freq_factor", s.low_freq_factor);
  s.high_freq_factor = get_number(*it, "high_freq_factor", s.high_freq_factor);
  s.original_max_position_embeddings =
      get_number(*it, "original_max_position_embeddings", s.original_max_position_embeddings);
  if (s.high_freq_factor <= s.low_freq_factor)
    fail("rope_scaling high_freq_factor {} must exceed low_freq_factor {}", s.high_freq_factor,
         s.low_freq_factor);
  return s;
}

void check_unsupported(const nlohmann::json& c, const ModelConfig& m) {
  const auto act = c.find("hidden_act");
  if (act != c.end() && *act != "silu")
    fail("unsupported hidden_act {} (weld knows \"silu\")", act->dump());
  if (m.architecture != "Qwen2ForCausalLM") {
    if (get_bool(c, "attention_bias", false)) fail("unsupported config value attention_bias: true");
    if (get_bool(c, "mlp_bias", false)) fail("unsupported config value mlp_bias: true");
  }
  if (m.architecture == "Qwen2ForCausalLM" && get_bool(c, "use_sliding_window", false))
    fail("unsupported config value use_sliding_window: true");
}

}  // namespace

ModelConfig parse_model_config(const nlohmann::json& c) {
  ModelConfig m;
  m.architecture = read_architecture(c);
  m.hidden = get_size(c, "hidden_size");
  m.intermediate = get_size(c, "intermediate_size");
  m.layers = get_size(c, "num_hidden_layers");
  m.heads = get_size(c, "num_attention_heads");
  m.kv_heads = c.contains("num_key_value_heads") && !c["num_key_value_heads"].is_null()
                   ? get_size(c, "num_key_value_heads")
                   : m.heads;
  m.head_dim = c.contains("head_dim") && !c["head_dim"].is_null() ? get_size(c, "head_dim")
                                                                  : m.hidden / m.heads;
  m.vocab = get_size(c, "vocab_size");
  m.max_positions = get_size(c, "max_position_embeddings");
  m.rms_norm_eps = get_number(c, "rms_norm_eps", m.rms_norm_eps);
  m.rope_theta = get_number(c, "rope_theta", m.rope_theta);
  m.llama3_scaling = read_rope_scaling(c);
  m.qkv_bias = m.architecture == "Qwen2ForCausalLM";
  m.tie_embeddings = get_bool(c, "tie_word_embeddings", false);
  if (m.architecture == "MistralForCausalLM" && c.contains("sliding_window") &&
      !c["sliding_window"].is_null())
    m.sliding_window = get_size(c, "sliding_window");
  check_unsupported(c, m);
  if (!c.contains("head_dim") && m.hidden % m.heads != 0)
    fail("hidden_size {} is not divisible by num_attention_heads {}", m.hidden, m.heads);
  if (m.heads % m.kv_heads != 0)
    fail("num_attention_heads {} is not divisible by num_key_value_heads {}", m.heads, m.kv_heads);
  if (m.head_dim % 2 != 0) fail("head_dim {} must be even for rotary embeddings", m.head_dim);
  return m;
}

}  // namespace weld
