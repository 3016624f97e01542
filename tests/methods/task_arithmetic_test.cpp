#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"

namespace weld::test {
namespace {

const MethodDescriptor& ta() { return find_method("task_arithmetic"); }

// base b = [1, 1, 1]; d1 = [1, -1, 0], d2 = [0, 2, 0]
const std::vector<std::vector<float>> kInputs = {{1, 1, 1}, {2, 0, 1}, {1, 3, 1}};

TEST(TaskArithmetic, WeightedTaskVectorsTimesLambdaByHand) {
  const MethodCall call = make_call(ta(), 3, 0, {{"weight", {kNaN, 0.5, 1}}}, {{"lambda", 2}});
  // sum w d = [0.5, 1.5, 0]; * 2 = [1, 3, 0]; + b
  EXPECT_THAT(run_tile(ta(), call, kInputs), testing::ElementsAre(2.0f, 4.0f, 1.0f));
}

TEST(TaskArithmetic, NormalizeDividesByTheWeightSum) {
  const MethodCall call =
      make_call(ta(), 3, 0, {{"weight", {kNaN, 0.5, 1}}}, {{"lambda", 2}, {"normalize", 1}});
  // [0.5, 1.5, 0] / 1.5 * 2 + 1
  EXPECT_THAT(run_tile(ta(), call, kInputs),
              testing::ElementsAre(testing::FloatEq(1.0f + 2.0f / 3.0f), 3.0f, 1.0f));
}

TEST(TaskArithmetic, NearZeroWeightSumDividesByOne) {
  const MethodCall call = make_call(ta(), 3, 0, {{"weight", {kNaN, 1, -1}}}, {{"normalize", 1}});
  // d1 - d2 = [1, -3, 0]
  EXPECT_THAT(run_tile(ta(), call, kInputs), testing::ElementsAre(2.0f, -2.0f, 1.0f));
}

TEST(TaskArithmetic, NegativeWeightNegatesATask) {
  const MethodCall call = make_call(ta(), 2, 0, {{"weight", {kNaN, -1}}});
  EXPECT_THAT(run_tile(ta(), call, {{1, 1, 1}, {2, 0, 1}}), testing::ElementsAre(0.0f, 2.0f, 1.0f));
}

TEST(TaskArithmetic, BaseAloneIsTheBase) {
  const MethodCall call = make_call(ta(), 1, 0, {{"weight", {kNaN}}});
  EXPECT_THAT(run_tile(ta(), call, {{1.5f, -2.0f}}), testing::ElementsAre(1.5f, -2.0f));
}

}  // namespace
}  // namespace weld::test
