#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "methods/method_test_util.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;

const MethodDescriptor& slerp() { return find_method("slerp"); }

// slerp of v0 (the base, input `base`) and v1 at t.
std::vector<float> slerp_merge(std::vector<float> v0, std::vector<float> v1, double t,
                               std::size_t base = 0) {
  const MethodCall call = make_call(slerp(), 2, base, {}, {{"t", t}});
  if (base == 0) return run_tile(slerp(), call, {std::move(v0), std::move(v1)});
  return run_tile(slerp(), call, {std::move(v1), std::move(v0)});
}

TEST(Slerp, DeclaresItsContract) {
  EXPECT_EQ(slerp().base, BaseUse::kRequired);
  EXPECT_EQ(slerp().min_inputs, 2u);
  EXPECT_EQ(slerp().max_inputs, 2u);
  EXPECT_NE(slerp().prepare, nullptr);  // streamed: the norms and dot product first
  ASSERT_EQ(slerp().params.size(), 1u);
  EXPECT_EQ(slerp().params[0].name, "t");
  EXPECT_EQ(slerp().params[0].scope, ParamScope::kGlobal);
  EXPECT_TRUE(slerp().params[0].required);
}

TEST(Slerp, HalfwayBetweenOrthogonalUnitVectors) {
  // theta = pi/2: out = sin(pi/4) (v0 + v1).
  EXPECT_THAT(slerp_merge({1, 0}, {0, 1}, 0.5),
              ElementsAre(FloatEq(kRootHalf), FloatEq(kRootHalf)));
}

TEST(Slerp, AngleFromTheDirectionsFormulaOnTheUnnormalisedTensors) {
  // [2, 0] and [0, 4]: theta = pi/2, out = sin(pi/4) [2, 4].
  EXPECT_THAT(slerp_merge({2, 0}, {0, 4}, 0.5),
              ElementsAre(FloatEq(2 * kRootHalf), FloatEq(4 * kRootHalf)));
  // [2, 0] and [3, 3]: theta = pi/4, both coefficients sin(pi/8) / sin(pi/4).
  const double c = std::sin(kPi / 8) / std::sin(kPi / 4);
  EXPECT_THAT(slerp_merge({2, 0}, {3, 3}, 0.5),
              ElementsAre(FloatEq(static_cast<float>(5 * c)), FloatEq(static_cast<float>(3 * c))));
  // t = 1/3 of pi/2: coefficients sin(pi/3) and sin(pi/6).
  EXPECT_THAT(slerp_merge({2, 0}, {0, 4}, 1.0 / 3),
              ElementsAre(FloatEq(static_cast<float>(2 * std::sin(kPi / 3))),
                          FloatEq(static_cast<float>(4 * std::sin(kPi / 6)))));
}

TEST(Slerp, EndpointsAreTheInputsExactly) {
  const std::vector<float> v0 = {0.3f, -1.7f, 2.9f, 0.01f}, v1 = {-0.2f, 1.1f, 0.4f, 5.5f};
  EXPECT_EQ(slerp_merge(v0, v1, 0.0), v0);
  EXPECT_EQ(slerp_merge(v0, v1, 1.0), v1);
}

TEST(Slerp, NearlyColinearTensorsAreInterpolatedLinearly) {
  // Parallel and antiparallel: sin theta = 0, so only lerp is defined.
  EXPECT_THAT(slerp_merge({1, 2}, {2, 4}, 0.5), ElementsAre(1.5f, 3.0f));
  EXPECT_THAT(slerp_merge({1, 0}, {-3, 0}, 0.5), ElementsAre(-1.0f, 0.0f));
  // cos theta = 0.9996 is above the 0.9995 threshold: lerp.
  const double above = std::acos(0.9996);
  const std::vector<float> v1 = {static_cast<float>(10 * std::cos(above)),
                                 static_cast<float>(10 * std::sin(above))};
  EXPECT_THAT(slerp_merge({1, 0}, v1, 0.5),
              ElementsAre(FloatEq(0.5f + 0.5f * v1[0]), FloatEq(0.5f * v1[1])));
}

TEST(Slerp, JustBelowTheThresholdIsStillSpherical) {
  // cos theta = 0.9994: both coefficients sin(theta/2) / sin(theta) = 1 / (2 cos(theta/2)),
  // about 0.50007 where lerp has 0.5.
  const double theta = std::acos(0.9994), c = 1 / (2 * std::cos(theta / 2));
  const std::vector<float> v1 = {static_cast<float>(10 * std::cos(theta)),
                                 static_cast<float>(10 * std::sin(theta))};
  EXPECT_THAT(slerp_merge({1, 0}, v1, 0.5),
              ElementsAre(FloatEq(static_cast<float>(c * (1 + v1[0]))),
                          FloatEq(static_cast<float>(c * v1[1]))));
}

TEST(Slerp, TinyTensorsAreNotNormalised) {
  // |v0| = 5e-9 <= 1e-8 stays unnormalised, so cos theta = 5e-9 rather than 1: the formula
  // runs with theta ~ pi/2 and gives sin(pi/4) (v0 + v1), not the lerp 0.5 (v0 + v1).
  EXPECT_THAT(slerp_merge({5e-9f, 0}, {1, 0}, 0.5), ElementsAre(FloatEq(kRootHalf), 0.0f));
}

TEST(Slerp, LanesMatchTilesBitForBit) {
  for (const std::size_t base : {std::size_t{0}, std::size_t{1}}) {
    const MethodCall call = make_call(slerp(), 2, base, {}, {{"t", 0.3}});
    // Finite values (a NaN or infinity anywhere makes the angle NaN), subnormals among them.
    std::vector<std::vector<float>> inputs = random_inputs(2, 500, 0.5);
    inputs[0][7] = 1e-40f;
    inputs[1][9] = -3e-39f;
    for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
      expect_lanes_match_tiles(slerp(), call, inputs, dtype, 37);
  }
}

TEST(Slerp, TheBaseIsV0WhereverItIs) {
  EXPECT_EQ(slerp_merge({2, 0}, {0, 4}, 0.25, 1), slerp_merge({2, 0}, {0, 4}, 0.25, 0));
  EXPECT_EQ(slerp_merge({0.5f, 7}, {1, -4}, 0.0, 1), (std::vector<float>{0.5f, 7}));
}

}  // namespace
}  // namespace weld::test
