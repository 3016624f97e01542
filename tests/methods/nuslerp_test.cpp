#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "methods/method_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;

const MethodDescriptor& nuslerp() { return find_method("nuslerp"); }

struct Options {
  bool flatten = true;
  bool row_wise = false;
  std::vector<std::uint64_t> shape = {};
};

// nuslerp of x0 and x1 with weights w0, w1 (no base).
std::vector<float> nuslerp_merge(std::vector<float> x0, std::vector<float> x1, double w0,
                                 double w1, const Options& options = {}) {
  const MethodCall call =
      make_call(nuslerp(), 2, std::nullopt, {{"weight", {w0, w1}}},
                {{"nuslerp_flatten", options.flatten ? 1 : 0},
                 {"nuslerp_row_wise", options.row_wise ? 1 : 0}});
  return run_tile(nuslerp(), call, {std::move(x0), std::move(x1)}, options.shape);
}

TEST(Nuslerp, DeclaresItsContract) {
  EXPECT_EQ(nuslerp().base, BaseUse::kOptional);
  EXPECT_EQ(nuslerp().min_inputs, 2u);
  EXPECT_EQ(nuslerp().max_inputs, 3u);
  EXPECT_NE(nuslerp().prepare, nullptr);  // streamed: one pass for the angles, then tiles
  EXPECT_NE(nuslerp().merge_tile, nullptr);
  ASSERT_EQ(nuslerp().params.size(), 3u);
  const ParamDef& weight = nuslerp().params[*find_param(nuslerp(), "weight")];
  EXPECT_EQ(weight.scope, ParamScope::kPerModel);
  EXPECT_TRUE(weight.required);
  const ParamDef& flatten = nuslerp().params[*find_param(nuslerp(), "nuslerp_flatten")];
  EXPECT_EQ(flatten.scope, ParamScope::kGlobal);
  EXPECT_FALSE(flatten.required);
  EXPECT_EQ(flatten.default_value, 1.0);
  const ParamDef& row_wise = nuslerp().params[*find_param(nuslerp(), "nuslerp_row_wise")];
  EXPECT_EQ(row_wise.scope, ParamScope::kGlobal);
  EXPECT_FALSE(row_wise.required);
  EXPECT_EQ(row_wise.default_value, 0.0);
}

TEST(Nuslerp, EqualWeightsGoHalfway) {
  EXPECT_THAT(nuslerp_merge({1, 0}, {0, 1}, 0.5, 0.5),
              ElementsAre(FloatEq(kRootHalf), FloatEq(kRootHalf)));
}

TEST(Nuslerp, TIsTheSecondModelsShareOfTheWeights) {
  // t = 3 / (1 + 3) = 0.75 of the quarter circle: angle 3 pi / 8.
  EXPECT_THAT(nuslerp_merge({1, 0}, {0, 1}, 1, 3),
              ElementsAre(FloatEq(static_cast<float>(std::cos(3 * kPi / 8))),
                          FloatEq(static_cast<float>(std::sin(3 * kPi / 8)))));
  // Only the ratio matters.
  EXPECT_EQ(nuslerp_merge({1, 0}, {0, 1}, 0.25, 0.75), nuslerp_merge({1, 0}, {0, 1}, 1, 3));
}

TEST(Nuslerp, WeightsSummingToAboutZeroGiveTHalf) {
  const std::vector<float> half = nuslerp_merge({2, 0}, {0, 4}, 1, 1);
  EXPECT_EQ(nuslerp_merge({2, 0}, {0, 4}, 1, -1), half);
  EXPECT_EQ(nuslerp_merge({2, 0}, {0, 4}, 1, -0.9999995), half);  // |sum| = 5e-7 < 1e-6
  EXPECT_THAT(half, ElementsAre(FloatEq(2 * kRootHalf), FloatEq(4 * kRootHalf)));
}

TEST(Nuslerp, ZeroWeightOnTheSecondModelGivesTheFirst) {
  const std::vector<float> x0 = {0.3f, -1.7f, 2.9f}, x1 = {-0.2f, 1.1f, 0.4f};
  EXPECT_EQ(nuslerp_merge(x0, x1, 2, 0), x0);
  EXPECT_EQ(nuslerp_merge(x0, x1, 0, 2), x1);
}

TEST(Nuslerp, FlattenedRowsAndColumnsOfATwoByTwo) {
  // x0 = [[1, 0], [1, 0]], x1 = [[0, 1], [1, 0]], t = 0.5.
  const std::vector<float> x0 = {1, 0, 1, 0}, x1 = {0, 1, 1, 0};
  // Flattened: cos = 1 / (sqrt 2 sqrt 2) = 1/2, theta = pi/3, coefficients
  // sin(pi/6) / sin(pi/3) = 1/sqrt 3 on x0 + x1 = [1, 1, 2, 0].
  const float third = static_cast<float>(1 / std::sqrt(3.0));
  EXPECT_THAT(nuslerp_merge(x0, x1, 1, 1, {.shape = {2, 2}}),
              ElementsAre(FloatEq(third), FloatEq(third), FloatEq(2 * third), 0.0f));
  // Rows (last axis): [1, 0] vs [0, 1] is a quarter circle; [1, 0] vs [1, 0] is colinear (lerp).
  EXPECT_THAT(nuslerp_merge(x0, x1, 1, 1, {.flatten = false, .shape = {2, 2}}),
              ElementsAre(FloatEq(kRootHalf), FloatEq(kRootHalf), 1.0f, 0.0f));
  // Columns (axis 0): [1, 1] vs [0, 1] at pi/4, coefficients sin(pi/8) / sin(pi/4) on
  // [1, 2]; [0, 0] vs [1, 0]: a zero vector counts as orthogonal, sin(pi/4) on [1, 0].
  const float c = static_cast<float>(std::sin(kPi / 8) / std::sin(kPi / 4));
  EXPECT_THAT(nuslerp_merge(x0, x1, 1, 1, {.flatten = false, .row_wise = true, .shape = {2, 2}}),
              ElementsAre(FloatEq(c), FloatEq(kRootHalf), FloatEq(2 * c), 0.0f));
}

TEST(Nuslerp, RowWiseVectorsRunAlongTheFirstAxisOfAnyRank) {
  // A [2, 1, 2] tensor has the same axis-0 vectors as the [2, 2] one: elements (j, j + 2).
  const std::vector<float> x0 = {1, 0, 1, 0}, x1 = {0, 1, 1, 0};
  EXPECT_EQ(nuslerp_merge(x0, x1, 1, 2, {.flatten = false, .row_wise = true, .shape = {2, 1, 2}}),
            nuslerp_merge(x0, x1, 1, 2, {.flatten = false, .row_wise = true, .shape = {2, 2}}));
  // A vector is one row either way.
  EXPECT_EQ(nuslerp_merge(x0, x1, 1, 2, {.flatten = false, .row_wise = true, .shape = {4}}),
            nuslerp_merge(x0, x1, 1, 2, {.shape = {4}}));
  EXPECT_EQ(nuslerp_merge(x0, x1, 1, 2, {.flatten = false, .shape = {4}}),
            nuslerp_merge(x0, x1, 1, 2, {.shape = {4}}));
}

TEST(Nuslerp, ColinearVectorsAreInterpolatedLinearly) {
  // sin theta = 0 (parallel) and sin(pi) ~ 1e-16 < 1e-8 (antiparallel, cos exactly -1 here);
  // t = 0.75.
  EXPECT_THAT(nuslerp_merge({1, 2}, {2, 4}, 1, 3), ElementsAre(FloatEq(1.75f), FloatEq(3.5f)));
  EXPECT_THAT(nuslerp_merge({1, 0}, {-2, 0}, 1, 3), ElementsAre(-1.25f, 0.0f));
}

TEST(Nuslerp, WithABaseInterpolatesTheDeltas) {
  // d0 = [1, 0], d1 = [0, 1] from b = [1, 1]: out = b + sin(pi/4) (d0 + d1).
  for (const std::size_t base : {0u, 1u, 2u}) {
    std::vector<std::vector<float>> inputs = {{2, 1}, {1, 2}};
    inputs.insert(inputs.begin() + static_cast<std::ptrdiff_t>(base), {1, 1});
    std::vector<double> weights = {1, 1};
    weights.insert(weights.begin() + static_cast<std::ptrdiff_t>(base), kNaN);
    const MethodCall call = make_call(nuslerp(), 3, base, {{"weight", weights}});
    EXPECT_THAT(run_tile(nuslerp(), call, inputs),
                ElementsAre(FloatEq(1 + kRootHalf), FloatEq(1 + kRootHalf)))
        << base;
  }
}

TEST(Nuslerp, TheBaseMustBeAThirdModel) {
  const MethodCall call = make_call(nuslerp(), 2, 0, {{"weight", {kNaN, 1}}});
  try {
    nuslerp().validate(call);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "the base model cannot be one of the two models nuslerp interpolates (give two "
                 "other models, or no base_model)");
  }
}

TEST(Nuslerp, ThreeModelsNeedOneToBeTheBase) {
  const MethodCall call = make_call(nuslerp(), 3, std::nullopt, {{"weight", {1, 1, 1}}});
  try {
    nuslerp().validate(call);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "nuslerp interpolates two models, got 3; a third may only be the base_model");
  }
}

}  // namespace
}  // namespace weld::test
