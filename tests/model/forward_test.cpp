// The forward pass against the naive double-precision reference in reference.h.
#include "model/forward.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "model/blas.h"
#include "model/random_model.h"
#include "model/reference.h"
#include "support/error_message.h"

namespace weld {
namespace {

// f32 compute against exact: relative to the largest logit of the row (a logit near zero
// has no meaningful relative error of its own).
constexpr double kLogitTolerance = 1e-4;

const std::vector<std::uint32_t> kTokens = {3, 17, 0, 5, 5, 12, 18, 1, 9, 4, 7, 3};

void expect_matches_reference(const Model& m, const std::vector<std::uint32_t>& tokens,
                              unsigned threads = 1) {
  Batch batch;
  batch.add(tokens);
  set_blas_threads(threads);
  const std::vector<float> hidden = forward_hidden(m, batch, threads, nullptr);
  const std::vector<float> logits = compute_logits(m, hidden.data(), batch.rows());
  const test::Mat expected = test::ref_logits(m, tokens);
  for (std::size_t r = 0; r < tokens.size(); ++r) {
    double scale = 0;
    for (double v : expected[r]) scale = std::max(scale, std::abs(v));
    for (std::size_t v = 0; v < m.config.vocab; ++v)
      ASSERT_NEAR(logits[r * m.config.vocab + v], expected[r][v], kLogitTolerance * scale)
          << "row " << r << " vocab " << v;
  }
}

TEST(Forward, LlamaMatchesReference) {
  expect_matches_reference(test::random_model(test::tiny_config("LlamaForCausalLM"), 1), kTokens);
}

TEST(Forward, Qwen2WithBiasesMatchesReference) {
  expect_matches_reference(test::random_model(test::tiny_config("Qwen2ForCausalLM"), 2), kTokens);
}

TEST(Forward, MistralSlidingWindowMatchesReference) {
  ModelConfig c = test::tiny_config("MistralForCausalLM");
  c.sliding_window = 4;
  expect_matches_reference(test::random_model(c, 3), kTokens);
}

TEST(Forward, TiedEmbeddingsAndLlama3RopeMatchReference) {
  ModelConfig c = test::tiny_config("LlamaForCausalLM");
  c.tie_embeddings = true;
  // Wavelengths 2*pi*100^(i/8) = 6.3, 11.2, 19.9, 35.3, 62.8, 112, 199, 353 against the
  // bands of an original context of 64: < 16 kept, 16..64 smoothed, > 64 divided by 8.
  c.head_dim = 16;
  c.heads = 2;
  c.kv_heads = 1;
  c.rope_theta = 100;
  c.llama3_scaling = Llama3RopeScaling{8.0, 1.0, 4.0, 64};
  expect_matches_reference(test::random_model(c, 4), kTokens);
}

TEST(Forward, MultiHeadAttentionWithoutGroupingMatchesReference) {
  ModelConfig c = test::tiny_config("LlamaForCausalLM");
  c.kv_heads = c.heads;
  expect_matches_reference(test::random_model(c, 5), kTokens);
}

TEST(Forward, SequencesInABatchAreIndependent) {
  const Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 6);
  const std::vector<std::uint32_t> a(kTokens.begin(), kTokens.begin() + 7),
      b(kTokens.begin() + 7, kTokens.end());
  Batch both, only_b;
  both.add(a);
  both.add(b);
  only_b.add(b);
  const std::vector<float> h_both = forward_hidden(m, both, 1, nullptr);
  const std::vector<float> h_b = forward_hidden(m, only_b, 1, nullptr);
  for (std::size_t i = 0; i < h_b.size(); ++i)
    EXPECT_NEAR(h_both[a.size() * m.config.hidden + i], h_b[i], 1e-5 * (1 + std::abs(h_b[i])));
}

TEST(Forward, SameResultOnAnyThreadCount) {
  ModelConfig c = test::tiny_config("LlamaForCausalLM");
  c.hidden = 64;
  c.heads = 8;
  c.kv_heads = 2;
  c.head_dim = 8;
  c.intermediate = 160;
  c.vocab = 300;
  c.max_positions = 512;
  const Model m = test::random_model(c, 7, 0.1f);
  std::vector<std::uint32_t> tokens(200);
  for (std::size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = static_cast<std::uint32_t>(i * 7919 % c.vocab);
  Batch batch;
  batch.add(tokens);
  std::vector<std::vector<float>> results;
  for (unsigned threads : {1u, 2u, 3u}) {
    set_blas_threads(threads);
    const std::vector<float> hidden = forward_hidden(m, batch, threads, nullptr);
    results.push_back(compute_logits(m, hidden.data(), batch.rows()));
  }
  set_blas_threads(1);
  // OpenBLAS may sum a product in another order on another thread count (its Haswell kernels
  // do, where OPENBLAS_CORETYPE picks them), so a logit near zero can move by a few rounding
  // errors of the larger terms that cancelled in it: the tolerance is relative to the logits'
  // scale, not to each logit.
  float scale = 0.0f;
  for (float v : results[0]) scale = std::max(scale, std::abs(v));
  for (std::size_t t = 1; t < results.size(); ++t)
    for (std::size_t i = 0; i < results[0].size(); ++i)
      ASSERT_NEAR(results[t][i], results[0][i], 1e-6 * scale) << i;
}

TEST(Forward, LoadsWeightsOfEveryFloatType) {
  for (DType dtype : {DType::kF32, DType::kF16, DType::kBF16}) {
    test::TempDir dir;
    Model m = test::random_model(test::tiny_config("Qwen2ForCausalLM"), 8);
    test::write_model(dir.path(), m, dtype);  // rounds m's weights as written
    const Model loaded = load_model(dir.path(), 2);
    const std::vector<const Param*> a = std::as_const(m.weights).params(),
                                    b = loaded.weights.params();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i]->name, b[i]->name);
      EXPECT_EQ(a[i]->data, b[i]->data) << a[i]->name;
    }
    expect_matches_reference(loaded, kTokens);
  }
}

TEST(Forward, LoadErrorsNameTheTensor) {
  test::TempDir dir;
  Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 9);
  nlohmann::json cfg = test::config_json(m.config);
  cfg["intermediate_size"] = 25;
  test::write_model(dir.path(), m, DType::kF32, cfg);
  EXPECT_EQ(test::error_message([&] { load_model(dir.path(), 1); }),
            "model '" + dir.path() +
                "': tensor 'model.layers.0.mlp.gate_proj.weight' has shape [24, 16], expected "
                "[25, 16]");
  cfg = test::config_json(m.config);
  cfg["architectures"] = {"Qwen2ForCausalLM"};
  test::TempDir dir2;
  test::write_model(dir2.path(), m, DType::kF32, cfg);
  EXPECT_EQ(
      test::error_message([&] { load_model(dir2.path(), 1); }),
      "model '" + dir2.path() + "': tensor 'model.layers.0.self_attn.q_proj.bias' is missing");
}

TEST(Forward, UnknownArchitectureIsAnError) {
  test::TempDir dir;
  Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 9);
  nlohmann::json cfg = test::config_json(m.config);
  cfg["architectures"] = {"FalconForCausalLM"};
  test::write_model(dir.path(), m, DType::kF32, cfg);
  EXPECT_EQ(test::error_message([&] { load_model(dir.path(), 1); }),
            "model '" + dir.path() +
                "': unsupported architecture 'FalconForCausalLM' (weld eval knows "
                "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM)");
}

}  // namespace
}  // namespace weld
