#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

TEST(InspectCli, TextShowsArchitectureLayersAndEveryTensor) {
  TempDir dir;
  ASSERT_EQ(run_weld("synth -q " + (dir / "m") + " --layers 3 --fine-tunes 0 --shard-size 30K").status, 0);
  const RunResult r = run_weld("inspect " + (dir / "m/base"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(r.out, testing::HasSubstr("architecture: LlamaForCausalLM (llama)"));
  EXPECT_THAT(r.out, testing::HasSubstr("layers: 3 in 'model.layers', 9 tensors each; pre: "
                                        "model.embed_tokens.weight; post: lm_head.weight, model.norm.weight"));
  EXPECT_THAT(r.out, testing::HasSubstr("dtypes: BF16 x30"));
  EXPECT_THAT(r.out, testing::ContainsRegex("model.layers.2.mlp.down_proj.weight +BF16 +\\[64, 176\\] +22.5 kB +model-000"));
}

TEST(InspectCli, JsonCountsAndTotals) {
  TempDir dir;
  ASSERT_EQ(run_weld("synth -q " + (dir / "m") + " --layers 2 --fine-tunes 0 --dtype float32").status, 0);
  const auto info = nlohmann::json::parse(run_weld("inspect --json " + (dir / "m/base")).out);
  EXPECT_EQ(info["n_tensors"], 21);
  EXPECT_EQ(info["layers"]["count"], 2);
  // embed + lm_head 2 x 256 x 64, per layer 2 x 64 + 2 x 64x64 + 2 x 32x64 + 3 x 176x64, norm 64.
  const std::uint64_t numel = 2 * 256 * 64 + 2 * (2 * 64 + 2 * 64 * 64 + 2 * 32 * 64 + 3 * 176 * 64) + 64;
  EXPECT_EQ(info["total_bytes"], numel * 4);
  EXPECT_EQ(info["tensors"][0]["shard"], "model.safetensors");
}

TEST(InspectCli, MissingModelIsAnError) {
  const RunResult r = run_weld("inspect /no/such/model");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "weld: error: model '/no/such/model': no such directory\n");
}

}  // namespace
}  // namespace weld::test
