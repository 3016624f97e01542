#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <optional>

#include "methods/method_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;

const MethodDescriptor& multislerp() { return find_method("multislerp"); }

std::vector<float> multislerp_merge(const std::vector<std::vector<float>>& inputs,
                                    const std::vector<double>& weights,
                                    std::optional<std::size_t> base = std::nullopt,
                                    bool normalize_weights = true) {
  const MethodCall call = make_call(multislerp(), inputs.size(), base, {{"weight", weights}},
                                    {{"normalize_weights", normalize_weights ? 1 : 0}});
  return run_tile(multislerp(), call, inputs);
}

void expect_error(const MethodCall& call, const std::vector<std::vector<float>>& inputs,
                  const char* message) {
  try {
    run_tile(multislerp(), call, inputs);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), message);
  }
}

TEST(Multislerp, DeclaresItsContract) {
  EXPECT_EQ(multislerp().base, BaseUse::kOptional);
  EXPECT_EQ(multislerp().min_inputs, 1u);
  EXPECT_EQ(multislerp().max_inputs, kUnbounded);
  EXPECT_NE(multislerp().merge_tile, nullptr);  // streamed: a Gram-matrix pass, then tiles
  EXPECT_NE(multislerp().prepare, nullptr);
  ASSERT_EQ(multislerp().params.size(), 3u);
  const ParamDef& weight = multislerp().params[*find_param(multislerp(), "weight")];
  EXPECT_EQ(weight.scope, ParamScope::kPerModel);
  EXPECT_TRUE(weight.required);
  const ParamDef& normalize = multislerp().params[*find_param(multislerp(), "normalize_weights")];
  EXPECT_EQ(normalize.scope, ParamScope::kGlobal);
  EXPECT_EQ(normalize.default_value, 1.0);
  const ParamDef& eps = multislerp().params[*find_param(multislerp(), "eps")];
  EXPECT_EQ(eps.scope, ParamScope::kGlobal);
  EXPECT_EQ(eps.default_value, 1e-8);
}

TEST(Multislerp, TwoUnitVectorsWithEqualWeightsMatchSlerpHalfway) {
  const std::vector<float> out = multislerp_merge({{1, 0}, {0, 1}}, {1, 1});
  EXPECT_THAT(out, ElementsAre(FloatEq(kRootHalf), FloatEq(kRootHalf)));
  const MethodDescriptor& slerp = find_method("slerp");
  const std::vector<float> by_slerp =
      run_tile(slerp, make_call(slerp, 2, 0, {}, {{"t", 0.5}}), {{1, 0}, {0, 1}});
  for (std::size_t j = 0; j < out.size(); ++j) EXPECT_FLOAT_EQ(out[j], by_slerp[j]) << j;
}

TEST(Multislerp, NormalisedMeanDirectionScaledByTheMeanNorm) {
  // u = [1, 0], [0, 1]; weights 1/4, 3/4: mean direction [1, 3] / sqrt 10, mean norm
  // 2/4 + 4 (3/4) = 3.5.
  const float s = static_cast<float>(3.5 / std::sqrt(10.0));
  EXPECT_THAT(multislerp_merge({{2, 0}, {0, 4}}, {1, 3}),
              ElementsAre(FloatEq(s), FloatEq(3 * s)));
}

TEST(Multislerp, UnnormalisedWeightsScaleTheResult) {
  // Same direction; norm 1 * 2 + 3 * 4 = 14.
  const float s = static_cast<float>(14 / std::sqrt(10.0));
  EXPECT_THAT(multislerp_merge({{2, 0}, {0, 4}}, {1, 3}, std::nullopt, false),
              ElementsAre(FloatEq(s), FloatEq(3 * s)));
}

TEST(Multislerp, ThreeModels) {
  // Directions e1, e2, e3, equal weights: [1, 1, 1] / sqrt 3 times (2 + 3 + 4) / 3.
  const float v = static_cast<float>(3 / std::sqrt(3.0));
  EXPECT_THAT(multislerp_merge({{2, 0, 0}, {0, 3, 0}, {0, 0, 4}}, {1, 1, 1}),
              ElementsAre(FloatEq(v), FloatEq(v), FloatEq(v)));
}

TEST(Multislerp, WithABaseWorksOnTheDeltas) {
  // Deltas [2, 0] and [0, 4] from b = [1, 1]; the base has no weight.
  const float s = static_cast<float>(3.5 / std::sqrt(10.0));
  EXPECT_THAT(multislerp_merge({{3, 1}, {1, 1}, {1, 5}}, {1, kNaN, 3}, 1),
              ElementsAre(FloatEq(1 + s), FloatEq(1 + 3 * s)));
}

TEST(Multislerp, OneModelBesidesTheBaseIsReturnedUnchanged) {
  const std::vector<float> x = {0.3f, -1.7f, 2.9f};
  EXPECT_EQ(multislerp_merge({{1, 2, 3}, x}, {kNaN, 0.5}, 0), x);
  EXPECT_EQ(multislerp_merge({x}, {0.5}), x);
  const auto identity = [](std::size_t n_inputs, std::optional<std::size_t> base) {
    const std::vector<double> weights(n_inputs, 1.0);
    const MethodCall call = make_call(multislerp(), n_inputs, base, {{"weight", weights}});
    return multislerp().identity_input(call);
  };
  EXPECT_EQ(identity(2, 0), std::optional<std::size_t>(1));
  EXPECT_EQ(identity(2, 1), std::optional<std::size_t>(0));
  EXPECT_EQ(identity(1, std::nullopt), std::optional<std::size_t>(0));
  EXPECT_EQ(identity(2, std::nullopt), std::nullopt);
  EXPECT_EQ(identity(3, 0), std::nullopt);
}

TEST(Multislerp, TwoAntipodalModelsFallBackToTheWeightedSum) {
  // u_2 = -u_1 up to eps, so |m| ~ 5e-10 < eps: out = (x1 + x2) / 2, or x1 + x2 unnormalised.
  EXPECT_THAT(multislerp_merge({{1, 2}, {-2, -4}}, {1, 1}), ElementsAre(-0.5f, -1.0f));
  EXPECT_THAT(multislerp_merge({{1, 2}, {-2, -4}}, {1, 1}, std::nullopt, false),
              ElementsAre(-1.0f, -2.0f));
  // With a base: deltas [1, 2] and [-2, -4], their mean [-0.5, -1] plus the base.
  EXPECT_THAT(multislerp_merge({{1, 1}, {2, 3}, {-1, -3}}, {kNaN, 1, 1}, 0),
              ElementsAre(0.5f, 0.0f));
}

TEST(Multislerp, AntipodalDirectionsOfThreeModelsAreAnError) {
  const MethodCall call = make_call(multislerp(), 3, std::nullopt, {{"weight", {1, 1, 1}}});
  expect_error(call, {{1, 2}, {-1, -2}, {0, 0}},
               "the models' directions cancel out: the weighted mean of their unit vectors has "
               "norm 0, below eps 1e-08, so multislerp has no mean direction (change the weights)");
}

// The formula as stated, on whole vectors in double (deltas from the base when given).
std::vector<double> multislerp_on_vectors(const std::vector<std::vector<float>>& inputs, std::vector<double> w,
                                          std::optional<std::size_t> base, double eps = 1e-8) {
  const std::size_t n = inputs[0].size();
  std::vector<std::vector<double>> x;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (i == base) continue;
    std::vector<double> v(n);
    for (std::size_t j = 0; j < n; ++j) v[j] = double{inputs[i][j]} - (base ? double{inputs[*base][j]} : 0.0);
    x.push_back(v);
  }
  const auto dot = [&](const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (std::size_t j = 0; j < n; ++j) s += a[j] * b[j];
    return s;
  };
  double w_sum = 0, scale = 0;
  for (double wi : w) w_sum += wi;
  for (double& wi : w) wi /= w_sum;
  std::vector<std::vector<double>> u;
  std::vector<double> m(n, 0.0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double norm = std::sqrt(dot(x[i], x[i]));
    scale += w[i] * norm;
    std::vector<double> ui(x[i]);
    for (double& e : ui) e /= norm + eps;
    for (std::size_t j = 0; j < n; ++j) m[j] += w[i] * ui[j];
    u.push_back(ui);
  }
  const double m_norm = std::sqrt(dot(m, m));
  std::vector<double> mh(m), tau(n, 0.0);
  for (double& e : mh) e /= m_norm;
  for (std::size_t i = 0; i < u.size(); ++i) {
    const double c = dot(u[i], mh);
    for (std::size_t j = 0; j < n; ++j) tau[j] += w[i] * (u[i][j] - c * mh[j]);
  }
  const double r = std::sqrt(dot(tau, tau)) + eps;
  std::vector<double> out(n);
  for (std::size_t j = 0; j < n; ++j)
    out[j] = (mh[j] * std::cos(r) + tau[j] * std::sin(r) / r) * scale + (base ? double{inputs[*base][j]} : 0.0);
  return out;
}

TEST(Multislerp, MatchesTheFormulaOnWholeVectors) {
  const std::vector<std::vector<float>> inputs = random_inputs(4, 300, 0.4);
  const std::vector<double> weights = {0.5, 0.2, 0.3};
  const std::vector<float> out = multislerp_merge(inputs, {0, 0.5, 0.2, 0.3}, 0);
  const std::vector<double> want = multislerp_on_vectors(inputs, weights, 0);
  for (std::size_t j = 0; j < out.size(); ++j) EXPECT_NEAR(out[j], want[j], 1e-6) << j;
}

TEST(Multislerp, AnyTilingGivesTheSameBits) {
  const std::vector<std::vector<float>> inputs = random_inputs(3, 1000, 0.4);
  const MethodCall call = make_call(multislerp(), inputs.size(), std::nullopt, {{"weight", {0.2, 0.3, 0.5}}});
  const std::vector<float> whole = run_tile(multislerp(), call, inputs);
  for (std::size_t tile : {1u, 7u, 256u})
    EXPECT_EQ(run_tile(multislerp(), call, inputs, {}, 42, "t", tile), whole) << tile;
}

TEST(Multislerp, NeedsAModelBesidesTheBase) {
  expect_error(make_call(multislerp(), 1, 0, {{"weight", {kNaN}}}), {{1, 2}},
               "multislerp needs at least one model besides the base model");
}

TEST(Multislerp, NormalizedWeightsMustNotSumToZero) {
  const MethodCall call = make_call(multislerp(), 2, std::nullopt, {{"weight", {1, -1}}});
  expect_error(call, {{1, 0}, {0, 1}},
               "the weights sum to 0, so normalize_weights cannot divide by them (change the "
               "weights or set normalize_weights: false)");
  // Unnormalised, the same weights are fine: m = u1 - u2, mean norm 1 - 1 = 0.
  EXPECT_THAT(multislerp_merge({{1, 0}, {0, 1}}, {1, -1}, std::nullopt, false),
              ElementsAre(0.0f, 0.0f));
}

TEST(Multislerp, GramPassFromTheInputsBytesMatchesTiles) {
  // Two to four models take the fused Gram pass, five the converted one; with a base and
  // without.
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::size_t n_inputs : {2u, 3u, 5u})
      for (const bool with_base : {false, true}) {
        const std::size_t n = with_base ? n_inputs + 1 : n_inputs;
        const MethodCall call =
            make_call(multislerp(), n, with_base ? std::optional<std::size_t>(0) : std::nullopt,
                      {{"weight", std::vector<double>(n, 1.0)}});
        expect_lane_passes_match_tiles(multislerp(), call, random_inputs(n, 3001, 0.5), dtype, 37);
      }
}

}  // namespace
}  // namespace weld::test
