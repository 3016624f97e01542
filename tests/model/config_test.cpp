#include "model/config.h"

#include <gtest/gtest.h>

#include "support/error_message.h"

namespace weld {
namespace {

using test::error_message;

nlohmann::json llama() {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"hidden_size", 64},
          {"intermediate_size", 176},
          {"num_hidden_layers", 4},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 2},
          {"vocab_size", 256},
          {"max_position_embeddings", 2048},
          {"rms_norm_eps", 1e-5},
          {"rope_theta", 500000.0},
          {"hidden_act", "silu"}};
}

TEST(ModelConfig, ReadsLlama) {
  const ModelConfig c = parse_model_config(llama());
  EXPECT_EQ(c.architecture, "LlamaForCausalLM");
  EXPECT_EQ(c.hidden, 64u);
  EXPECT_EQ(c.head_dim, 16u);
  EXPECT_EQ(c.kv_dim(), 32u);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.rms_norm_eps, 1e-5);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.tie_embeddings);
  EXPECT_FALSE(c.llama3_scaling);
}

TEST(ModelConfig, Qwen2HasQkvBiasAndMistralItsWindow) {
  nlohmann::json q = llama();
  q["architectures"] = {"Qwen2ForCausalLM"};
  q["tie_word_embeddings"] = true;
  const ModelConfig qc = parse_model_config(q);
  EXPECT_TRUE(qc.qkv_bias);
  EXPECT_TRUE(qc.tie_embeddings);
  nlohmann::json m = llama();
  m["architectures"] = {"MistralForCausalLM"};
  m["sliding_window"] = 4096;
  m["head_dim"] = 32;
  const ModelConfig mc = parse_model_config(m);
  EXPECT_EQ(mc.sliding_window, 4096u);
  EXPECT_EQ(mc.head_dim, 32u);
  m["sliding_window"] = nullptr;
  EXPECT_EQ(parse_model_config(m).sliding_window, 0u);
}

TEST(ModelConfig, ReadsLlama3RopeScaling) {
  nlohmann::json j = llama();
  j["rope_scaling"] = {{"rope_type", "llama3"},
                       {"factor", 32.0},
                       {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0},
                       {"original_max_position_embeddings", 8192}};
  const ModelConfig c = parse_model_config(j);
  ASSERT_TRUE(c.llama3_scaling);
  EXPECT_EQ(c.llama3_scaling->factor, 32.0);
  EXPECT_EQ(c.llama3_scaling->original_max_position_embeddings, 8192.0);
}

TEST(ModelConfig, UnsupportedValuesAreNamed) {
  nlohmann::json j = llama();
  j["architectures"] = {"GPT2LMHeadModel"};
  EXPECT_EQ(error_message([&] { parse_model_config(j); }),
            "unsupported architecture 'GPT2LMHeadModel' (weld eval knows LlamaForCausalLM, "
            "MistralForCausalLM, Qwen2ForCausalLM)");
  j = llama();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  EXPECT_EQ(error_message([&] { parse_model_config(j); }),
            "unsupported rope_scaling type \"linear\" (weld knows \"llama3\")");
  j = llama();
  j["hidden_act"] = "gelu";
  EXPECT_EQ(error_message([&] { parse_model_config(j); }),
            "unsupported hidden_act \"gelu\" (weld knows \"silu\")");
  j = llama();
  j["attention_bias"] = true;
  EXPECT_EQ(error_message([&] { parse_model_config(j); }),
            "unsupported config value attention_bias: true");
  j = llama();
  j.erase("vocab_size");
  EXPECT_EQ(error_message([&] { parse_model_config(j); }), "config.json has no \"vocab_size\"");
  j = llama();
  j["num_key_value_heads"] = 3;
  EXPECT_EQ(error_message([&] { parse_model_config(j); }),
            "num_attention_heads 4 is not divisible by num_key_value_heads 3");
}

}  // namespace
}  // namespace weld
