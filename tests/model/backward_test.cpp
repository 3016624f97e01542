// Every gradient of the backward pass against central finite differences of the
// double-precision reference (reference.h), element by element, on tiny models.
#include "model/backward.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/random_model.h"
#include "model/reference.h"

namespace weld {
namespace {

// Finite-difference step on the double reference (its truncation error is ~step^2).
constexpr float kStep = 1e-3f;
// f32 backward against double differences, relative to the largest gradient of the tensor.
constexpr double kGradTolerance = 2e-3;

const std::vector<std::uint32_t> kGradientTokens = {3, 17, 0, 5, 5, 12, 18, 1};

Weights gradients(const Model& m, const std::vector<std::uint32_t>& targets) {
  Batch batch;
  batch.add(kGradientTokens);
  ForwardCache cache;
  const std::vector<float> hidden = forward_hidden(m, batch, 1, &cache);
  std::vector<float> d_logits = compute_logits(m, hidden.data(), batch.rows());
  nll_logit_gradient(d_logits, targets, m.config.vocab, 1);
  Weights grads = zeros_like(m.weights);
  backward(m, batch, cache, hidden, d_logits, grads, 1);
  return grads;
}

void expect_gradients_match(Model m) {
  std::vector<std::uint32_t> targets(kGradientTokens.size(), kNoTarget);
  for (std::size_t i = 0; i + 1 < kGradientTokens.size(); ++i) targets[i] = kGradientTokens[i + 1];
  const Weights grads = gradients(m, targets);
  std::vector<Param*> params = m.weights.params();
  std::vector<const Param*> g = grads.params();
  for (std::size_t p = 0; p < params.size(); ++p) {
    std::vector<double> fd(params[p]->data.size());
    double scale = 1e-6;
    for (std::size_t i = 0; i < fd.size(); ++i) {
      float& w = params[p]->data[i];
      const float saved = w;
      w = saved + kStep;
      const double up = test::ref_nll(m, kGradientTokens, targets);
      w = saved - kStep;
      const double down = test::ref_nll(m, kGradientTokens, targets);
      w = saved;
      fd[i] = (up - down) / (2.0 * static_cast<double>(kStep));
      scale = std::max(scale, std::abs(fd[i]));
    }
    for (std::size_t i = 0; i < fd.size(); ++i)
      ASSERT_NEAR(g[p]->data[i], fd[i], kGradTolerance * scale)
          << params[p]->name << " element " << i;
  }
}

TEST(Backward, LlamaGradientsMatchFiniteDifferences) {
  expect_gradients_match(test::random_model(test::tiny_config("LlamaForCausalLM"), 11));
}

TEST(Backward, Qwen2TiedGradientsMatchFiniteDifferences) {
  ModelConfig c = test::tiny_config("Qwen2ForCausalLM");
  c.tie_embeddings = true;
  expect_gradients_match(test::random_model(c, 12));
}

TEST(Backward, MistralWindowAndLlama3RopeGradientsMatchFiniteDifferences) {
  ModelConfig c = test::tiny_config("MistralForCausalLM");
  c.sliding_window = 3;
  c.llama3_scaling = Llama3RopeScaling{4.0, 1.0, 4.0, 8};
  expect_gradients_match(test::random_model(c, 13));
}

TEST(Backward, LogitGradientIsSoftmaxMinusOneHot) {
  std::vector<float> logits = {0.0f, std::log(3.0f), 0.0f, 5.0f, 5.0f, 5.0f};
  nll_logit_gradient(logits, {1, kNoTarget}, 3, 1);
  EXPECT_NEAR(logits[0], 0.2, 1e-7);
  EXPECT_NEAR(logits[1], 0.6 - 1.0, 1e-7);
  EXPECT_NEAR(logits[2], 0.2, 1e-7);
  EXPECT_EQ(logits[3], 0.0f);
  EXPECT_EQ(logits[5], 0.0f);
}

}  // namespace
}  // namespace weld
