#include "eval/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>

#include "model/forward.h"
#include "model/random_model.h"
#include "model/reference.h"
#include "support/error_message.h"

namespace weld {
namespace {

TEST(PlanWindows, OneWindowScoresAllButTheFirstToken) {
  const std::vector<Window> w = plan_windows(5, 8, 8);
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].begin, 0u);
  EXPECT_EQ(w[0].end, 5u);
  EXPECT_EQ(w[0].first_scored, 1u);
}

TEST(PlanWindows, StrideScoresOnlyNewTokens) {
  // 10 tokens, context 4, stride 2: [0,4) scores 1..3, [2,6) 4..5, [4,8) 6..7, [6,10) 8..9.
  const std::vector<Window> w = plan_windows(10, 4, 2);
  ASSERT_EQ(w.size(), 4u);
  const std::size_t expected[4][3] = {{0, 4, 1}, {2, 6, 4}, {4, 8, 6}, {6, 10, 8}};
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(w[i].begin, expected[i][0]);
    EXPECT_EQ(w[i].end, expected[i][1]);
    EXPECT_EQ(w[i].first_scored, expected[i][2]);
  }
}

TEST(PlanWindows, StrideEqualToContextLeavesEachWindowsFirstToken) {
  // 9 tokens, context 4: [0,4) scores 1..3, [4,8) 5..7, [8,9) nothing.
  const std::vector<Window> w = plan_windows(9, 4, 4);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[1].first_scored, 5u);
  EXPECT_EQ(w[2].first_scored, 9u);
  EXPECT_EQ(test::error_message([] { plan_windows(1, 4, 4); }),
            "need at least 2 tokens to score, got 1");
}

TEST(Evaluate, UniformModelHasPerplexityOfTheVocabularySize) {
  Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 21);
  std::fill(m.weights.lm_head.data.begin(), m.weights.lm_head.data.end(), 0.0f);
  EvalOptions o;
  o.context = 8;
  const EvalResult r = evaluate(m, test::token_stream(30, m.config.vocab), o);
  EXPECT_EQ(r.tokens, 26u);  // windows of 8 at 0, 8, 16, 24: 7 + 7 + 7 + 5
  EXPECT_NEAR(r.perplexity, static_cast<double>(m.config.vocab),
              1e-9 * static_cast<double>(m.config.vocab));
  EXPECT_NEAR(r.nll, std::log(static_cast<double>(m.config.vocab)), 1e-12);
}

// The mean NLL the windows of plan_windows give, from the double reference.
double reference_nll(const Model& m, const std::vector<std::uint32_t>& tokens, std::size_t context,
                     std::size_t stride, std::size_t& scored) {
  double sum = 0;
  scored = 0;
  for (const Window& w : plan_windows(tokens.size(), context, stride)) {
    const std::vector<std::uint32_t> window(tokens.begin() + w.begin, tokens.begin() + w.end);
    std::vector<std::uint32_t> targets(window.size(), kNoTarget);
    for (std::size_t p = w.begin; p + 1 < w.end; ++p)
      if (p + 1 >= w.first_scored) {
        targets[p - w.begin] = tokens[p + 1];
        ++scored;
      }
    sum += test::ref_nll(m, window, targets);
  }
  return sum / static_cast<double>(scored);
}

TEST(Evaluate, MatchesTheReferenceForEveryStrideAndBatch) {
  const Model m = test::random_model(test::tiny_config("Qwen2ForCausalLM"), 22);
  const std::vector<std::uint32_t> tokens = test::token_stream(41, m.config.vocab);
  for (std::size_t stride : {3u, 5u, 12u}) {
    std::size_t scored = 0;
    const double expected = reference_nll(m, tokens, 12, stride, scored);
    for (std::size_t batch : {1u, 2u, 7u}) {
      EvalOptions o;
      o.context = 12;
      o.stride = stride;
      o.batch = batch;
      o.threads = 2;
      const EvalResult r = evaluate(m, tokens, o);
      EXPECT_EQ(r.tokens, scored) << stride << " " << batch;
      EXPECT_NEAR(r.nll, expected, 1e-5 * expected) << stride << " " << batch;
    }
  }
}

TEST(Evaluate, SameResultOnAnyThreadCount) {
  const Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 23);
  const std::vector<std::uint32_t> tokens = test::token_stream(300, m.config.vocab);
  EvalOptions o;
  o.context = 64;
  o.stride = 32;
  o.batch = 3;
  o.threads = 1;
  const double one = evaluate(m, tokens, o).nll;
  o.threads = 2;
  EXPECT_NEAR(evaluate(m, tokens, o).nll, one, 1e-6 * one);
}

TEST(Evaluate, DefaultContextIsMaxPositionsCappedAt1024) {
  Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 24);
  EXPECT_EQ(resolve_context(m, {}), 64u);
  m.config.max_positions = 4096;
  EXPECT_EQ(resolve_context(m, {}), 1024u);
}

TEST(Evaluate, BadInputIsNamed) {
  const Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 25);
  EXPECT_EQ(test::error_message([&] {
              evaluate(m, {1, 2, 19, 3}, {});
            }),
            "tokens: token 2 is id 19, not below the vocabulary size 19");
  EvalOptions o;
  o.context = 4;
  o.stride = 5;
  EXPECT_EQ(test::error_message([&] {
              evaluate(m, {1, 2, 3}, o);
            }),
            "--stride 5 exceeds --context 4");
  o.context = 1;
  o.stride = 1;
  EXPECT_EQ(test::error_message([&] {
              evaluate(m, {1, 2, 3}, o);
            }),
            "--context must be at least 2 tokens, got 1");
}

}  // namespace
}  // namespace weld
