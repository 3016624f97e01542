#include "eval/fisher.h"

#include <gtest/gtest.h>

#include <cstring>
#include <utility>

#include "io/safetensors_reader.h"
#include "model/forward.h"
#include "model/random_model.h"
#include "support/error_message.h"

namespace weld {
namespace {

TEST(Fisher, IsTheMeanSquaredGradientOverSequences) {
  const Model m = test::random_model(test::tiny_config("Qwen2ForCausalLM"), 31);
  const std::vector<std::uint32_t> tokens = test::token_stream(20, m.config.vocab);
  FisherOptions o;
  o.context = 8;  // sequences [0,8), [8,16), [16,20)
  const FisherResult r = compute_fisher(m, tokens, o);
  EXPECT_EQ(r.sequences, 3u);
  EXPECT_EQ(r.tokens, 7u + 7u + 3u);
  std::vector<Weights> grads;
  for (std::size_t begin : {0u, 8u, 16u}) {
    const std::size_t end = std::min<std::size_t>(begin + 8, tokens.size());
    const std::vector<std::uint32_t> seq(tokens.begin() + begin, tokens.begin() + end);
    std::vector<std::uint32_t> targets(seq.size(), kNoTarget);
    for (std::size_t p = 0; p + 1 < seq.size(); ++p) targets[p] = seq[p + 1];
    grads.push_back(zeros_like(m.weights));
    log_likelihood_gradient(m, seq, targets, grads.back(), 1);
  }
  const std::vector<const Param*> f = r.fisher.params();
  for (std::size_t p = 0; p < f.size(); ++p)
    for (std::size_t i = 0; i < f[p]->data.size(); ++i) {
      double expected = 0;
      for (const Weights& g : grads) {
        const double v = std::as_const(g).params()[p]->data[i];
        expected += v * v / 3.0;
      }
      ASSERT_NEAR(f[p]->data[i], expected, 1e-6 * expected + 1e-12) << f[p]->name << " " << i;
    }
}

TEST(Fisher, SampledLabelsDependOnTheSeedOnly) {
  const Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 32);
  const std::vector<std::uint32_t> tokens = test::token_stream(24, m.config.vocab);
  FisherOptions o;
  o.context = 8;
  o.samples = 2;
  o.sampled = true;
  const FisherResult a = compute_fisher(m, tokens, o);
  o.threads = 2;
  const FisherResult b = compute_fisher(m, tokens, o);
  o.seed = 7;
  const FisherResult c = compute_fisher(m, tokens, o);
  EXPECT_EQ(a.sequences, 2u);
  const std::vector<float>& fa = a.fisher.embed.data;
  for (std::size_t i = 0; i < fa.size(); ++i)
    ASSERT_NEAR(b.fisher.embed.data[i], fa[i], 1e-6 * fa[i] + 1e-12);
  EXPECT_NE(c.fisher.embed.data, fa);
}

TEST(Fisher, TooManySamplesIsAnError) {
  const Model m = test::random_model(test::tiny_config("LlamaForCausalLM"), 33);
  FisherOptions o;
  o.context = 8;
  o.samples = 4;
  EXPECT_EQ(test::error_message([&] { compute_fisher(m, test::token_stream(20, m.config.vocab), o); }),
            "--samples 4 but the tokens make only 3 sequences of up to 8 tokens");
}

TEST(Fisher, WritesEveryTensorByName) {
  const Model m = test::random_model(test::tiny_config("Qwen2ForCausalLM"), 34);
  test::TempDir dir;
  write_fisher(dir / "f.safetensors", m.weights, {{"weld_fisher", "empirical"}});
  const auto file = SafetensorsFile::open(dir / "f.safetensors");
  const std::vector<const Param*> params = m.weights.params();
  ASSERT_EQ(file->tensors().size(), params.size());
  for (const Param* p : params) {
    const TensorInfo* info = file->find(p->name);
    ASSERT_NE(info, nullptr) << p->name;
    EXPECT_EQ(info->dtype, DType::kF32);
    EXPECT_EQ(std::vector<std::size_t>(info->shape.begin(), info->shape.end()), p->shape);
    const auto bytes = file->data(*info);
    EXPECT_EQ(std::memcmp(bytes.data(), p->data.data(), bytes.size()), 0);
  }
  EXPECT_EQ(file->metadata().at("weld_fisher"), "empirical");
}

}  // namespace
}  // namespace weld
