#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

const MethodDescriptor& linear() { return find_method("linear"); }

TEST(Linear, WeightedAverageByHand) {
  const MethodCall call = make_call(linear(), 2, std::nullopt, {{"weight", {1, 3}}});
  // (1*1 + 3*3)/4, (1*2 + 3*6)/4, (1*3 + 3*9)/4
  EXPECT_THAT(run_tile(linear(), call, {{1, 2, 3}, {3, 6, 9}}), testing::ElementsAre(2.5f, 5.0f, 7.5f));
}

TEST(Linear, WithoutNormalizeIsTheWeightedSum) {
  const MethodCall call = make_call(linear(), 2, std::nullopt, {{"weight", {1, 3}}}, {{"normalize", 0}});
  EXPECT_THAT(run_tile(linear(), call, {{1, 2, 3}, {3, 6, 9}}), testing::ElementsAre(10.0f, 20.0f, 30.0f));
}

TEST(Linear, OneModelIsTheIdentity) {
  const MethodCall call = make_call(linear(), 1, std::nullopt, {{"weight", {0.7}}});
  const std::vector<float> x = {-1.5f, 0.0f, 3.25f, 1e-30f};
  EXPECT_EQ(run_tile(linear(), call, {x}), x);
}

TEST(Linear, BaseWithoutWeightTakesNoPart) {
  const MethodCall call = make_call(linear(), 2, 1, {{"weight", {2, kNaN}}});
  EXPECT_THAT(run_tile(linear(), call, {{4, 8}, {100, 100}}), testing::ElementsAre(4.0f, 8.0f));
}

TEST(Linear, ZeroWeightSumIsAnError) {
  const MethodCall call = make_call(linear(), 2, std::nullopt, {{"weight", {1, -1}}});
  try {
    linear().validate(call);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the weights sum to 0, so normalize cannot divide by them "
                           "(change the weights or set normalize: false)");
  }
}

TEST(Linear, LanesMatchTilesBitForBit) {
  const MethodCall call = make_call(linear(), 3, std::nullopt, {{"weight", {0.3, 0.0, 1.7}}});
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::size_t tile : {std::size_t{1000}, std::size_t{37}, std::size_t{16}})
      expect_lanes_match_tiles(linear(), call, lane_test_inputs(3, 1000), dtype, tile);
}

// One to four inputs have kernels of their own; five and six take the general one.
TEST(Linear, LanesMatchTilesForEveryNumberOfInputs) {
  for (std::size_t n_inputs = 1; n_inputs <= 6; ++n_inputs) {
    SCOPED_TRACE(testing::Message() << n_inputs << " inputs");
    std::vector<double> weight(n_inputs, 0.75);
    weight.back() = -1.25;
    const MethodCall call = make_call(linear(), n_inputs, std::nullopt, {{"weight", weight}}, {{"normalize", 0}});
    for (const DType dtype : {DType::kBF16, DType::kF32})
      expect_lanes_match_tiles(linear(), call, lane_test_inputs(n_inputs, 640), dtype, 37);
  }
}

}  // namespace
}  // namespace weld::test
