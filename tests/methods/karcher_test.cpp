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
using testing::FloatNear;

const MethodDescriptor& karcher() { return find_method("karcher"); }

constexpr double kPi = std::numbers::pi;
const float kRootHalf = static_cast<float>(std::sqrt(0.5));

std::vector<float> karcher_merge(const std::vector<std::vector<float>>& inputs,
                                 const std::vector<std::pair<std::string, double>>& globals = {},
                                 std::optional<std::size_t> base = std::nullopt) {
  const MethodCall call = make_call(karcher(), inputs.size(), base, {}, globals);
  return run_tile(karcher(), call, inputs);
}

TEST(Karcher, DeclaresItsContract) {
  EXPECT_EQ(karcher().base, BaseUse::kOptional);
  EXPECT_EQ(karcher().min_inputs, 1u);
  EXPECT_EQ(karcher().max_inputs, kUnbounded);
  EXPECT_NE(karcher().merge_tensor, nullptr);
  ASSERT_EQ(karcher().params.size(), 2u);
  const ParamDef& max_iter = karcher().params[*find_param(karcher(), "max_iter")];
  EXPECT_EQ(max_iter.scope, ParamScope::kGlobal);
  EXPECT_FALSE(max_iter.required);
  EXPECT_EQ(max_iter.default_value, 10.0);
  const ParamDef& tol = karcher().params[*find_param(karcher(), "tol")];
  EXPECT_EQ(tol.scope, ParamScope::kGlobal);
  EXPECT_FALSE(tol.required);
  EXPECT_EQ(tol.default_value, 1e-5);
}

TEST(Karcher, IdenticalInputsComeBack) {
  const std::vector<float> x = {0.5f, -2, 3, 0.25f};
  const std::vector<float> out = karcher_merge({x, x, x});
  ASSERT_EQ(out.size(), x.size());
  for (std::size_t j = 0; j < x.size(); ++j) EXPECT_FLOAT_EQ(out[j], x[j]) << j;
}

TEST(Karcher, OrthogonalUnitVectorsGiveTheirBisector) {
  EXPECT_THAT(karcher_merge({{1, 0}, {0, 1}}),
              ElementsAre(FloatEq(kRootHalf), FloatEq(kRootHalf)));
}

TEST(Karcher, TheMeanOfAnglesNotOfVectors) {
  // Directions at 0, 0 and 90 degrees: the geodesic mean is at 30 degrees, where the
  // normalised mean [2, 1] / sqrt 5 (the starting point) is at 26.6. Mean norm (2 + 1 + 3) / 3.
  const std::vector<float> out = karcher_merge({{2, 0}, {1, 0}, {0, 3}});
  EXPECT_THAT(out, ElementsAre(FloatNear(static_cast<float>(2 * std::cos(kPi / 6)), 1e-5f),
                               FloatNear(static_cast<float>(2 * std::sin(kPi / 6)), 1e-5f)));
}

TEST(Karcher, NoIterationsGiveTheNormalisedMean) {
  const float s = static_cast<float>(2 / std::sqrt(5.0));
  EXPECT_THAT(karcher_merge({{2, 0}, {1, 0}, {0, 3}}, {{"max_iter", 0}}),
              ElementsAre(FloatEq(2 * s), FloatEq(s)));
}

TEST(Karcher, ShortInputsSitOutTheIterationButCountInTheNorm) {
  // A zero input: bisector of the other two, scaled by (0 + 1 + 1) / 3.
  EXPECT_THAT(karcher_merge({{0, 0}, {1, 0}, {0, 1}}),
              ElementsAre(FloatEq(2 * kRootHalf / 3), FloatEq(2 * kRootHalf / 3)));
  // |[1e-6, 0]| <= tol: the same direction, scaled by (1e-6 + 2) / 3.
  const float scaled = static_cast<float>((1e-6 + 2) / 3 * std::sqrt(0.5));
  EXPECT_THAT(karcher_merge({{1e-6f, 0}, {1, 0}, {0, 1}}),
              ElementsAre(FloatEq(scaled), FloatEq(scaled)));
  // A smaller tol lets it pull the direction towards [1, 0].
  const std::vector<float> pulled = karcher_merge({{1e-6f, 0}, {1, 0}, {0, 1}}, {{"tol", 1e-7}});
  EXPECT_GT(pulled[0], pulled[1]);
}

TEST(Karcher, OnlyShortInputsGiveZero) {
  EXPECT_THAT(karcher_merge({{0, 0}, {1e-6f, 0}}), ElementsAre(0.0f, 0.0f));
}

TEST(Karcher, OneInputIsReturnedUnchanged) {
  const std::vector<float> x = {0.3f, -1.7f, 2.9f};
  EXPECT_EQ(karcher_merge({x}), x);
  EXPECT_EQ(karcher().identity_input(make_call(karcher(), 1, std::nullopt, {})),
            std::optional<std::size_t>(0));
  EXPECT_EQ(karcher().identity_input(make_call(karcher(), 2, std::nullopt, {})), std::nullopt);
}

TEST(Karcher, TheBaseIsAveragedInLikeAnyInput) {
  const std::vector<std::vector<float>> inputs = {{2, 0}, {1, 0}, {0, 3}};
  EXPECT_EQ(karcher_merge(inputs, {}, 2), karcher_merge(inputs));
  EXPECT_EQ(karcher_merge(inputs, {}, 0), karcher_merge(inputs));
}

TEST(Karcher, MaxIterMustBeAWholeNumber) {
  const std::pair<double, const char*> cases[] = {
      {-1.0, "max_iter must be a whole number of steps, at least 0, got -1"},
      {2.5, "max_iter must be a whole number of steps, at least 0, got 2.5"},
  };
  for (const auto& [max_iter, message] : cases) {
    try {
      karcher().validate(make_call(karcher(), 2, std::nullopt, {}, {{"max_iter", max_iter}}));
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), message);
    }
  }
}

}  // namespace
}  // namespace weld::test
