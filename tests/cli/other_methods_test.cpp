// End-to-end: model_stock, nearswap, sce, arcee_fusion, ram and ramplus_tl through the real
// binary, on tiny models written by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/tiny_model.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;
using testing::HasSubstr;

class OtherMethodsCli : public testing::Test {
 protected:
  // Writes model `name` with the one tensor "w".
  void model(const std::string& name, std::vector<std::uint64_t> shape, std::vector<float> values) {
    write_tiny_model(dir_ / name, {{"w", std::move(shape), std::move(values)}});
  }
  // `method` on base "b" and the models `others`, with top-level `parameters`.
  RunResult merge(const std::string& method, const std::vector<std::string>& others,
                  const std::string& parameters = "{}") {
    std::string yaml = "merge_method: " + method + "\nbase_model: " + (dir_ / "b") +
                       "\nparameters: " + parameters + "\nmodels:\n";
    for (const std::string& name : others) yaml += "  - model: " + (dir_ / name) + "\n";
    write_file(dir_ / "merge.yml", yaml);
    return run_weld("merge -q --force " + (dir_ / "merge.yml") + " " + (dir_ / "out"));
  }
  std::vector<float> merged() { return read_model_f32(dir_ / "out").at("w"); }

  TempDir dir_;
};

TEST_F(OtherMethodsCli, ModelStockPerTensorAndFilterWise) {
  // b = 0 (2x2); d1 = [[1, 0], [1, 0]], d2 = [[0, 1], [1, 0]].
  model("b", {2, 2}, {0, 0, 0, 0});
  model("x1", {2, 2}, {1, 0, 1, 0});
  model("x2", {2, 2}, {0, 1, 1, 0});
  // Flattened: cos = 1/2, t = 2/3, mean = [0.5, 0.5, 1, 0].
  RunResult r = merge("model_stock", {"x1", "x2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(FloatEq(1.0f / 3), FloatEq(1.0f / 3), FloatEq(2.0f / 3), 0.0f));
  // Per row: row 0 orthogonal (t = 0, base), row 1 identical (t = 1, the fine-tunes).
  r = merge("model_stock", {"x1", "x2"}, "{filter_wise: true}");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(0.0f, 0.0f, 1.0f, 0.0f));
}

TEST_F(OtherMethodsCli, ModelStockNeedsTwoFineTunes) {
  model("b", {2}, {0, 0});
  model("x1", {2}, {1, 0});
  const RunResult r = merge("model_stock", {"x1"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("model_stock needs at least 3 models, got 2"));
}

TEST_F(OtherMethodsCli, ModelStockOffsetsThatCancelOutNameTheTensor) {
  model("b", {2}, {1, 1});
  model("x1", {2}, {2, 0});
  model("x2", {2}, {0, 2});
  const RunResult r = merge("model_stock", {"x1", "x2"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("tensor 'w': the fine-tunes' offsets from the base cancel out"));
}

TEST_F(OtherMethodsCli, NearswapByHand) {
  // t = 0.5: |a - b| = 0.25, 1, 2, 0 -> lambda = 1, 0.5, 0.25, 1.
  model("b", {4}, {0, 0, 0, 1});
  model("x", {4}, {0.25f, 1, 2, 1});
  const RunResult r = merge("nearswap", {"x"}, "{t: 0.5}");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(0.25f, 0.5f, 0.5f, 1.0f));
}

TEST_F(OtherMethodsCli, NearswapNeedsT) {
  model("b", {1}, {0});
  model("x", {1}, {1});
  const RunResult r = merge("nearswap", {"x"});
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("nearswap needs parameter 't' (tensor 'w')"));
}

TEST_F(OtherMethodsCli, NearswapTakesExactlyTwoModels) {
  model("b", {1}, {0});
  model("x1", {1}, {1});
  model("x2", {1}, {2});
  const RunResult r = merge("nearswap", {"x1", "x2"}, "{t: 1}");
  EXPECT_EQ(r.status, 1);
  EXPECT_THAT(r.err, HasSubstr("nearswap takes at most 2 models, got 3"));
}

TEST_F(OtherMethodsCli, SceWithSelectTopkByHand) {
  // b = 1; d1 = [1, 2, 3, 4], d2 = [1, 0, 6, -4]: variances [0, 1, 2.25, 16]; select_topk 0.7
  // keeps [2] and [3]; e = [25/77, 52/77]; [2] = 1 + 387/77, [3] = 1 + 4 (sum 0 counts as +).
  model("b", {4}, {1, 1, 1, 1});
  model("x1", {4}, {2, 3, 4, 5});
  model("x2", {4}, {2, 1, 7, -3});
  const RunResult r = merge("sce", {"x1", "x2"}, "{select_topk: 0.7}");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(1.0f, 1.0f, FloatEq(1 + 387.0f / 77), 5.0f));
}

TEST_F(OtherMethodsCli, ArceeFusionTakesTheOutlierChange) {
  // One row: I = KL [0, 1, 2, 3, 10]; threshold = 2 KL + 1.5 (3 KL - KL) = 5 KL.
  model("b", {5}, {0, 0, 0, 0, 0});
  model("x", {5}, {0, -1, 2, -3, 10});
  const RunResult r = merge("arcee_fusion", {"x"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(0.0f, 0.0f, 0.0f, 0.0f, 10.0f));
}

TEST_F(OtherMethodsCli, RamAndRamplusTlByHand) {
  // b = 0; d1 = [1, 1, 1, 2], d2 = [0, 0, 0, 4]: counts [1, 1, 1, 2].
  model("b", {4}, {0, 0, 0, 0});
  model("x1", {4}, {1, 1, 1, 2});
  model("x2", {4}, {0, 0, 0, 4});
  RunResult r = merge("ram", {"x1", "x2"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(1.0f, 1.0f, 1.0f, 3.0f));
  // rho_1 = 1 shared / 3 unique; r = 0.3, alpha = 1: lambda_1 = 1.1.
  r = merge("ramplus_tl", {"x1", "x2"}, "{r: 0.3, alpha: 1}");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_THAT(merged(), ElementsAre(FloatEq(1.1f), FloatEq(1.1f), FloatEq(1.1f), 3.0f));
}

}  // namespace
}  // namespace weld::test
