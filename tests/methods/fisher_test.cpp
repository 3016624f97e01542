#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

const MethodDescriptor& fisher() { return find_method("fisher"); }

TEST(Fisher, WeighsEachElementByItsFisherByHand) {
  const MethodCall call = make_call(fisher(), 2, std::nullopt, {{"weight", {1, 1}}});
  // Inputs: the two models, then their Fisher tensors.
  // element 0: (1*1 + 3*3) / (1 + 3) = 2.5; element 1: (4*2 + 0*4) / 4 = 2;
  // element 2: no information anywhere, so both sit at the floor: the mean, 5.
  EXPECT_THAT(run_tile(fisher(), call, {{1, 2, 4}, {3, 4, 6}, {1, 4, 0}, {3, 0, 0}}),
              testing::ElementsAre(2.5f, 2.0f, 5.0f));
}

TEST(Fisher, EqualFisherIsTheWeightedAverage) {
  const MethodCall call = make_call(fisher(), 2, std::nullopt, {{"weight", {1, 3}}});
  EXPECT_THAT(run_tile(fisher(), call, {{1, 2}, {3, 6}, {0.5f, 2}, {0.5f, 2}}),
              testing::ElementsAre(2.5f, 5.0f));
}

TEST(Fisher, OneModelIsTheIdentity) {
  const MethodCall call = make_call(fisher(), 1, std::nullopt, {});
  const std::vector<float> x = {-1.5f, 0.0f, 3.25f};
  EXPECT_EQ(run_tile(fisher(), call, {x, {0, 1, 1e-20f}}), x);
}

TEST(Fisher, NegativeOrZeroWeightsAreErrors) {
  const MethodCall negative = make_call(fisher(), 2, std::nullopt, {{"weight", {1, -1}}});
  EXPECT_THROW(fisher().validate(negative), Error);
  const MethodCall zero = make_call(fisher(), 2, std::nullopt, {{"weight", {0, 0}}});
  EXPECT_THROW(fisher().validate(zero), Error);
  EXPECT_EQ(fisher().params[1].kind, ParamKind::kFile);
}

}  // namespace
}  // namespace weld::test
