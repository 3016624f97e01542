#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;

const MethodDescriptor& stock() { return find_method("model_stock"); }

std::vector<float> stock_merge(const std::vector<std::vector<float>>& inputs, std::size_t base = 0,
                               bool filter_wise = false, std::vector<std::uint64_t> shape = {}) {
  const MethodCall call =
      make_call(stock(), inputs.size(), base, {}, {{"filter_wise", filter_wise ? 1 : 0}});
  return run_tile(stock(), call, inputs, std::move(shape));
}

TEST(ModelStock, DeclaresItsContract) {
  EXPECT_EQ(stock().base, BaseUse::kRequired);
  EXPECT_EQ(stock().min_inputs, 3u);
  EXPECT_EQ(stock().max_inputs, kUnbounded);
  ASSERT_EQ(stock().params.size(), 1u);
  EXPECT_EQ(stock().params[0].name, "filter_wise");
  EXPECT_EQ(stock().params[0].scope, ParamScope::kGlobal);
  EXPECT_FALSE(stock().params[0].required);
  EXPECT_EQ(stock().params[0].default_value, 0.0);
}

TEST(ModelStock, OrthogonalOffsetsOfEqualNormGiveTheBase) {
  // d1 = [1, 0], d2 = [0, 1]: cos = 0, t = 0.
  EXPECT_THAT(stock_merge({{1, 1}, {2, 1}, {1, 2}}), ElementsAre(1.0f, 1.0f));
}

TEST(ModelStock, IdenticalFineTunesGiveTheFineTune) {
  // cos = 1, t = 2 * 1 / (1 + 1) = 1.
  EXPECT_THAT(stock_merge({{1, 1, 1}, {3, -1, 0.5f}, {3, -1, 0.5f}}),
              ElementsAre(3.0f, -1.0f, 0.5f));
}

TEST(ModelStock, TwoFineTunesAtSixtyDegreesByHand) {
  // b = 0, d1 = [1, 1, 0, 0], d2 = [0, 1, 1, 0]: cos = 1 / (sqrt 2 sqrt 2) = 0.5,
  // t = 2 * 0.5 / (1 + 0.5) = 2/3; mean = [0.5, 1, 0.5, 0].
  EXPECT_THAT(stock_merge({{0, 0, 0, 0}, {1, 1, 0, 0}, {0, 1, 1, 0}}),
              ElementsAre(FloatEq(1.0f / 3), FloatEq(2.0f / 3), FloatEq(1.0f / 3), 0.0f));
}

TEST(ModelStock, ThreeFineTunesAverageThePairwiseCosines) {
  // d1 = [1, 0], d2 = [0, 1], d3 = [1, 0]: cosines 0, 1, 0 -> mean 1/3;
  // t = 3 (1/3) / (1 + 2/3) = 0.6; mean = [2/3, 1/3]; out = 0.6 mean.
  EXPECT_THAT(stock_merge({{0, 0}, {1, 0}, {0, 1}, {1, 0}}),
              ElementsAre(FloatEq(0.4f), FloatEq(0.2f)));
}

TEST(ModelStock, TheBaseMayBeAnyInput) {
  EXPECT_THAT(stock_merge({{1, 1, 0, 0}, {0, 1, 1, 0}, {0, 0, 0, 0}}, 2),
              ElementsAre(FloatEq(1.0f / 3), FloatEq(2.0f / 3), FloatEq(1.0f / 3), 0.0f));
}

TEST(ModelStock, AZeroOffsetHasCosineZero) {
  // d1 = 0: <d1, d2> / max(0, 1e-6) = 0, so t = 0 and the base is kept.
  EXPECT_THAT(stock_merge({{1, 2}, {1, 2}, {5, -3}}), ElementsAre(1.0f, 2.0f));
}

TEST(ModelStock, FilterWiseTakesOneRatioPerRow) {
  // b = 0 (2x2). Row 0: d1 = [1, 0], d2 = [0, 1] -> t = 0 -> [0, 0].
  // Row 1: d1 = d2 = [1, 0] -> t = 1 -> [1, 0].
  const std::vector<std::vector<float>> inputs = {{0, 0, 0, 0}, {1, 0, 1, 0}, {0, 1, 1, 0}};
  EXPECT_THAT(stock_merge(inputs, 0, true, {2, 2}), ElementsAre(0.0f, 0.0f, 1.0f, 0.0f));
  // Flattened: d1 = [1, 0, 1, 0], d2 = [0, 1, 1, 0], cos = 1/2, t = 2/3, mean = [.5, .5, 1, 0].
  EXPECT_THAT(stock_merge(inputs, 0, false, {2, 2}),
              ElementsAre(FloatEq(1.0f / 3), FloatEq(1.0f / 3), FloatEq(2.0f / 3), 0.0f));
}

TEST(ModelStock, FilterWiseOnAVectorIsOneRow) {
  const std::vector<std::vector<float>> inputs = {{0, 0, 0, 0}, {1, 1, 0, 0}, {0, 1, 1, 0}};
  EXPECT_EQ(stock_merge(inputs, 0, true, {4}), stock_merge(inputs, 0, false, {4}));
}

TEST(ModelStock, FineTuneOrderDoesNotMatter) {
  const std::vector<float> b = {0.5f, -1, 2, 0.25f}, x1 = {1, -1.5f, 2.5f, 0},
                           x2 = {0.25f, 0, 1, 1}, x3 = {2, -2, 2, 0.5f};
  const std::vector<float> out = stock_merge({b, x1, x2, x3});
  const std::vector<float> permuted = stock_merge({x3, b, x1, x2}, 1);
  for (std::size_t j = 0; j < out.size(); ++j) EXPECT_FLOAT_EQ(out[j], permuted[j]) << j;
}

TEST(ModelStock, TheFusedPathMatchesTilesToTheBit) {
  // Two fine-tunes and three take the fused Gram pass, five the converted one; two fine-tunes
  // have a merge kernel for each place of the base; rows of 37 and 64 elements cut lane blocks
  // and tiles at odd places.
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::size_t n_inputs : {3u, 4u, 6u}) {
      const std::vector<std::vector<float>> inputs = random_inputs(n_inputs, 37 * 64, 0.5);
      for (const std::size_t base : {std::size_t{0}, std::size_t{1}, n_inputs - 1})
        for (const bool filter_wise : {false, true}) {
          SCOPED_TRACE(testing::Message() << n_inputs << " inputs, base " << base << ", filter_wise " << filter_wise);
          const MethodCall call = make_call(stock(), n_inputs, base, {}, {{"filter_wise", filter_wise ? 1 : 0}});
          for (const std::size_t tile : {640u, 37u, 16u}) {
            expect_lanes_match_tiles(stock(), call, inputs, dtype, tile, {64, 37});
            expect_lanes_match_tiles(stock(), call, inputs, dtype, tile, {37, 64});
          }
        }
    }
}

TEST(ModelStock, OffsetsThatCancelOutAreAnError) {
  // d2 = -d1: cos = -1, 1 + (N - 1) cos = 0.
  try {
    stock_merge({{1, 1}, {2, 0}, {0, 2}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "the fine-tunes' offsets from the base cancel out (mean cosine -1), so "
                 "t = N cos / (1 + (N - 1) cos) is undefined");
  }
}

TEST(ModelStock, FilterWiseNamesTheRowThatCancelsOut) {
  // Row 0 agrees, row 1 has d2 = -d1.
  try {
    stock_merge({{0, 0, 0, 0}, {1, 0, 1, 0}, {1, 0, -1, 0}}, 0, true, {2, 2});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "the fine-tunes' offsets from the base cancel out in row 1 (mean cosine "
                 "-1), so t = N cos / (1 + (N - 1) cos) is undefined");
  }
}

}  // namespace
}  // namespace weld::test
