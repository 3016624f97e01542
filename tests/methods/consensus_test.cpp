#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/consensus.h"

namespace weld {
namespace {

TEST(Consensus, ElectsTheSignOfTheSumAndKeepsAgreeingValues) {
  const std::vector<float> a = {1, -2, 0}, b = {-3, 1, 2};
  const float* weighted[] = {a.data(), b.data()};
  const double weights[] = {1.0, 2.0};
  std::vector<float> mixed(3), divisor(3);
  elect_sign_and_merge(weighted, weights, mixed.data(), divisor.data(), 3);
  // sums -2, -1, 2: element 0 keeps b (-3, weight 2), element 1 keeps a (-2, weight 1),
  // element 2 keeps b (2, weight 2); a's exact zero has no sign and is never kept.
  EXPECT_THAT(mixed, testing::ElementsAre(-3.0f, -2.0f, 2.0f));
  EXPECT_THAT(divisor, testing::ElementsAre(2.0f, 1.0f, 2.0f));
}

TEST(Consensus, ZeroSumElectsPlusAndAnEmptyMaskDividesByOne) {
  const std::vector<float> a = {0}, b = {0};
  const float* weighted[] = {a.data(), b.data()};
  const double weights[] = {1.0, 1.0};
  float mixed, divisor;
  elect_sign_and_merge(weighted, weights, &mixed, &divisor, 1);
  EXPECT_EQ(mixed, 0.0f);
  EXPECT_EQ(divisor, 1.0f);
}

}  // namespace
}  // namespace weld
