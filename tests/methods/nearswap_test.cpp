#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"

namespace weld::test {
namespace {

using testing::ElementsAre;

const MethodDescriptor& nearswap() { return find_method("nearswap"); }

TEST(Nearswap, DeclaresItsContract) {
  EXPECT_EQ(nearswap().base, BaseUse::kRequired);
  EXPECT_EQ(nearswap().min_inputs, 2u);
  EXPECT_EQ(nearswap().max_inputs, 2u);
  EXPECT_NE(nearswap().merge_tile, nullptr);
  ASSERT_EQ(nearswap().params.size(), 1u);
  EXPECT_EQ(nearswap().params[0].name, "t");
  EXPECT_EQ(nearswap().params[0].scope, ParamScope::kGlobal);
  EXPECT_TRUE(nearswap().params[0].required);
}

TEST(Nearswap, InterpolatesByHowNearTheValuesAre) {
  // t = 0.5; a = base. |a - b| = 0.25: lambda = min(2, 1) = 1 -> b.
  // |a - b| = 1: lambda = 0.5 -> 0.5.  |a - b| = 2: lambda = 0.25 -> 0.25 * 2 = 0.5.
  // |a - b| = 0: lambda = 0.5 / 1e-6, clamped to 1 -> b.
  const MethodCall call = make_call(nearswap(), 2, 0, {}, {{"t", 0.5}});
  EXPECT_THAT(run_tile(nearswap(), call, {{0, 0, 0, 1}, {0.25f, 1, 2, 1}}),
              ElementsAre(0.25f, 0.5f, 0.5f, 1.0f));
}

TEST(Nearswap, NegativeDifferencesUseTheMagnitude) {
  // a = [4, 4], b = [3, 0]: |a - b| = 1 -> lambda 1 -> 3; |a - b| = 4 -> lambda 0.25 -> 3.
  const MethodCall call = make_call(nearswap(), 2, 0, {}, {{"t", 1}});
  EXPECT_THAT(run_tile(nearswap(), call, {{4, 4}, {3, 0}}), ElementsAre(3.0f, 3.0f));
}

TEST(Nearswap, TheBaseMayBeTheSecondInput) {
  const MethodCall call = make_call(nearswap(), 2, 1, {}, {{"t", 0.5}});
  EXPECT_THAT(run_tile(nearswap(), call, {{0.25f, 1, 2, 1}, {0, 0, 0, 1}}),
              ElementsAre(0.25f, 0.5f, 0.5f, 1.0f));
}

TEST(Nearswap, DifferencesBelowTheFloorUseTheFloor) {
  // |a - b| = 2^-21 (about 4.8e-7) is below 1e-6: lambda = 2.5e-7 / 1e-6 = 0.25, where
  // t / |a - b| would give about 0.52.
  const float d = 1.0f / (1 << 21);
  const MethodCall call = make_call(nearswap(), 2, 0, {}, {{"t", 2.5e-7}});
  const std::vector<float> out = run_tile(nearswap(), call, {{0}, {d}});
  EXPECT_FLOAT_EQ(out[0], 0.25f * d);
}

TEST(Nearswap, NonPositiveThresholdKeepsTheBase) {
  for (const double t : {0.0, -1.0}) {
    const MethodCall call = make_call(nearswap(), 2, 0, {}, {{"t", t}});
    EXPECT_THAT(run_tile(nearswap(), call, {{1, -2, 3}, {1, 5, 3.5f}}),
                ElementsAre(1.0f, -2.0f, 3.0f))
        << t;
  }
}

TEST(Nearswap, LargeThresholdTakesTheOtherModel) {
  const MethodCall call = make_call(nearswap(), 2, 0, {}, {{"t", 1e9}});
  EXPECT_THAT(run_tile(nearswap(), call, {{1, -2, 3}, {-7, 5, 3.5f}}),
              ElementsAre(-7.0f, 5.0f, 3.5f));
}

TEST(Nearswap, LanesMatchTilesBitForBit) {
  for (const std::size_t base : {std::size_t{0}, std::size_t{1}}) {
    const MethodCall call = make_call(nearswap(), 2, base, {}, {{"t", 0.3}});
    for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
      expect_lanes_match_tiles(nearswap(), call, lane_test_inputs(2, 500), dtype, 37);
  }
}

}  // namespace
}  // namespace weld::test
