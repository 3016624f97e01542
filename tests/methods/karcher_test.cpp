#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
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
  EXPECT_NE(karcher().merge_tile, nullptr);  // streamed: a Gram-matrix pass, then tiles
  EXPECT_NE(karcher().prepare, nullptr);
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

// The iteration as stated, on whole vectors in double: what the coefficients stand for.
std::vector<double> karcher_on_vectors(const std::vector<std::vector<float>>& x, int max_iter, double tol) {
  const std::size_t n = x[0].size();
  const auto dot = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) s += a[j] * b[j];
    return s;
  };
  std::vector<std::vector<double>> u;
  double mean_norm = 0;
  for (const auto& xi : x) {
    std::vector<double> v(xi.begin(), xi.end());
    const double norm = std::sqrt(dot(v, v));
    mean_norm += norm / static_cast<double>(x.size());
    for (double& e : v) e /= norm;
    u.push_back(v);
  }
  std::vector<double> m(n, 0.0);
  for (const auto& ui : u)
    for (std::size_t j = 0; j < n; ++j) m[j] += ui[j] / static_cast<double>(u.size());
  const double m_norm = std::sqrt(dot(m, m));
  for (double& e : m) e /= m_norm;
  for (int k = 0; k < max_iter; ++k) {
    std::vector<double> t(n, 0.0);
    for (const auto& ui : u) {
      const double c = std::clamp(dot(m, ui), -1.0, 1.0), th = std::acos(c);
      if (th < tol) continue;
      for (std::size_t j = 0; j < n; ++j) t[j] += th / std::sin(th) / static_cast<double>(u.size()) * (ui[j] - c * m[j]);
    }
    const double tn = std::sqrt(dot(t, t));
    if (tn < tol) break;
    for (std::size_t j = 0; j < n; ++j) m[j] = std::cos(tn) * m[j] + std::sin(tn) * t[j] / tn;
    const double mn = std::sqrt(dot(m, m));
    for (double& e : m) e /= mn;
  }
  for (double& e : m) e *= mean_norm;
  return m;
}

TEST(Karcher, MatchesTheIterationOnWholeVectors) {
  const std::vector<std::vector<float>> inputs = random_inputs(4, 300, 0.3);
  const std::vector<float> out = karcher_merge(inputs);
  const std::vector<double> want = karcher_on_vectors(inputs, 10, 1e-5);
  for (std::size_t j = 0; j < out.size(); ++j) EXPECT_NEAR(out[j], want[j], 1e-6) << j;
}

TEST(Karcher, AnyTilingGivesTheSameBits) {
  const std::vector<std::vector<float>> inputs = random_inputs(3, 1000, 0.3);
  const MethodCall call = make_call(karcher(), inputs.size(), std::nullopt, {});
  const std::vector<float> whole = run_tile(karcher(), call, inputs);
  for (std::size_t tile : {1u, 7u, 256u}) EXPECT_EQ(run_tile(karcher(), call, inputs, {}, 42, "t", tile), whole) << tile;
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

TEST(Karcher, GramPassFromTheInputsBytesMatchesTiles) {
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::size_t n_inputs : {2u, 4u, 5u})
      expect_lane_passes_match_tiles(karcher(), make_call(karcher(), n_inputs, std::nullopt, {}),
                                     random_inputs(n_inputs, 3001, 0.5), dtype, 37);
}

}  // namespace
}  // namespace weld::test
