#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;

const MethodDescriptor& ram() { return find_method("ram"); }
const MethodDescriptor& ramplus() { return find_method("ramplus_tl"); }

std::vector<float> merge(const MethodDescriptor& m, const std::vector<std::vector<float>>& inputs,
                         const std::vector<std::pair<std::string, double>>& globals = {}) {
  return run_tile(m, make_call(m, inputs.size(), 0, {}, globals), inputs);
}

void expect_global(const MethodDescriptor& m, std::string_view name, double default_value) {
  const std::optional<std::size_t> p = find_param(m, name);
  ASSERT_TRUE(p.has_value()) << m.name << " " << name;
  EXPECT_EQ(m.params[*p].scope, ParamScope::kGlobal) << name;
  EXPECT_FALSE(m.params[*p].required) << name;
  EXPECT_EQ(m.params[*p].default_value, default_value) << name;
}

TEST(Ram, DeclaresItsContract) {
  for (const MethodDescriptor* m : {&ram(), &ramplus()}) {
    EXPECT_EQ(m->base, BaseUse::kRequired);
    EXPECT_EQ(m->min_inputs, 1u);
    EXPECT_EQ(m->max_inputs, kUnbounded);
    expect_global(*m, "epsilon", 1e-5);
  }
  EXPECT_EQ(ram().params.size(), 1u);
  expect_global(ramplus(), "r", 0.1);
  expect_global(ramplus(), "alpha", 0.2);
}

// b = 1; d1 = [0, 0.5, 2, ~1e-6], d2 = [0, 0, 4, ~-1e-6]: active counts c = [0, 1, 2, 0]
// (|d| <= 1e-5 is inactive).
const std::vector<std::vector<float>> kCounts = {
    {1, 1, 1, 1}, {1, 1.5f, 3, 1 + 1e-6f}, {1, 1, 5, 1 - 1e-6f}};

TEST(Ram, SumsUniqueAndAveragesSharedChanges) {
  // c = 0: base; c = 1: 1 + 0.5; c = 2: 1 + (2 + 4) / 2; inactive changes are dropped.
  EXPECT_THAT(merge(ram(), kCounts), ElementsAre(1.0f, 1.5f, 4.0f, 1.0f));
}

TEST(Ram, EpsilonSetsWhatCountsAsActive) {
  // epsilon 0.6 makes d1[1] = 0.5 inactive.
  EXPECT_THAT(merge(ram(), kCounts, {{"epsilon", 0.6}}), ElementsAre(1.0f, 1.0f, 4.0f, 1.0f));
}

TEST(Ram, OneFineTuneKeepsItsActiveChanges) {
  EXPECT_THAT(merge(ram(), {{1, 1, 1}, {3, 1 + 1e-6f, -1}}), ElementsAre(3.0f, 1.0f, -1.0f));
}

TEST(Ram, BaseAloneIsTheBase) {
  EXPECT_THAT(merge(ram(), {{1.5f, -2}}), ElementsAre(1.5f, -2.0f));
  EXPECT_THAT(merge(ramplus(), {{1.5f, -2}}), ElementsAre(1.5f, -2.0f));
}

TEST(RamplusTl, ScalesUniqueChangesByTheClampedSharedToUniqueRatio) {
  // Model 1 is active at [1] (unique) and [2] (shared): rho = 1 / 1, clamped to alpha 0.2:
  // lambda_1 = 1 + 0.1 * 0.2 = 1.02. Model 2 has no unique change.
  EXPECT_THAT(merge(ramplus(), kCounts), ElementsAre(1.0f, FloatEq(1.51f), 4.0f, 1.0f));
}

TEST(RamplusTl, RatioBelowAlphaIsUsedAsIs) {
  // b = 0, d1 = [1, 1, 1, 2], d2 = [0, 0, 0, 4]: model 1 has 3 unique, 1 shared: rho = 1/3.
  // r = 0.3, alpha = 1: lambda_1 = 1 + 0.3 / 3 = 1.1; [3] = (2 + 4) / 2.
  const std::vector<std::vector<float>> inputs = {{0, 0, 0, 0}, {1, 1, 1, 2}, {0, 0, 0, 4}};
  EXPECT_THAT(merge(ramplus(), inputs, {{"r", 0.3}, {"alpha", 1}}),
              ElementsAre(FloatEq(1.1f), FloatEq(1.1f), FloatEq(1.1f), 3.0f));
  // With the defaults rho = 1/3 is clamped to 0.2: lambda_1 = 1.02.
  EXPECT_THAT(merge(ramplus(), inputs),
              ElementsAre(FloatEq(1.02f), FloatEq(1.02f), FloatEq(1.02f), 3.0f));
}

TEST(RamplusTl, NoSharedChangeLeavesUniqueOnesUnscaled) {
  // rho = 0 / 2 = 0: lambda = 1, the same as ram.
  const std::vector<std::vector<float>> inputs = {{0, 0, 0}, {1, 0, 2}, {0, -3, 0}};
  EXPECT_EQ(merge(ramplus(), inputs, {{"r", 5}}), merge(ram(), inputs));
}

TEST(RamplusTl, NegativeAlphaClampsLikeTorch) {
  // torch.clamp(rho, min=0, max=alpha) is alpha when alpha < 0: lambda_1 = 1 + 1 * -0.5.
  const std::vector<std::vector<float>> inputs = {{0, 0}, {2, 1}, {0, 1}};
  EXPECT_THAT(merge(ramplus(), inputs, {{"r", 1}, {"alpha", -0.5}}), ElementsAre(1.0f, 1.0f));
}

}  // namespace
}  // namespace weld::test
