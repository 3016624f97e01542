#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"

namespace weld::test {
namespace {

using testing::ElementsAre;

const MethodDescriptor& fusion() { return find_method("arcee_fusion"); }

std::vector<float> fuse(const std::vector<float>& a, const std::vector<float>& b,
                        std::vector<std::uint64_t> shape = {}) {
  const MethodCall call = make_call(fusion(), 2, 0, {});
  return run_tile(fusion(), call, {a, b}, std::move(shape));
}

TEST(ArceeFusion, DeclaresItsContract) {
  EXPECT_EQ(fusion().base, BaseUse::kRequired);
  EXPECT_EQ(fusion().min_inputs, 2u);
  EXPECT_EQ(fusion().max_inputs, 2u);
  EXPECT_TRUE(fusion().params.empty());
}

TEST(ArceeFusion, TakesOnlyOutliersAboveMedianPlusOneAndAHalfIqr) {
  // One row, so one KL K > 0 (b is not a shift of a): I = K |b - a| = K [0, 1, 2, 3, 10].
  // n = 5: Q1 = sorted[1] = K, median = sorted[2] = 2K, Q3 = sorted[3] = 3K;
  // threshold = 2K + 1.5 (3K - K) = 5K, so only the last element is taken.
  EXPECT_THAT(fuse({0, 0, 0, 0, 0}, {0, -1, 2, -3, 10}),
              ElementsAre(0.0f, 0.0f, 0.0f, 0.0f, 10.0f));
}

TEST(ArceeFusion, EqualImportanceMeetsTheThreshold) {
  // Every I is the same, so the threshold equals it and every change is taken (>=).
  EXPECT_THAT(fuse({1, 2, 3, 4}, {2, 1, 4, 3}), ElementsAre(2.0f, 1.0f, 4.0f, 3.0f));
}

TEST(ArceeFusion, AShiftedRowHasZeroKl) {
  // softmax(a + 5) = softmax(a): KL = 0, so I = 0 everywhere, the threshold is 0 and all is taken.
  EXPECT_THAT(fuse({0, 1, 2, 3}, {5, 6, 7, 8}), ElementsAre(5.0f, 6.0f, 7.0f, 8.0f));
}

TEST(ArceeFusion, KlIsTakenPerRow) {
  // 3 x 4, a = [[0, 1, 2, 3], 0, 0].
  // Row 0: b = a + 100, a shift: KL0 = 0, so its large changes have I = 0.
  // Row 1: b = [1, 1, 1, 2] = softmax-equivalent to [0, 0, 0, 1]: KL1 ~ 0.118; I = KL1 [1, 1, 1,
  // 2]. Row 2: b = [0, 0, 0, 2]: KL2 ~ 0.468; I = [0, 0, 0, 2 KL2]. Sorted: seven 0s, three KL1,
  // then the two larger. n = 12: Q1 = sorted[2] = 0, median = sorted[5] = 0, Q3 = sorted[8] = KL1:
  // threshold 1.5 KL1 takes row 1's and row 2's last elements only. One KL for the whole tensor
  // would have taken row 0's changes.
  const std::vector<float> a = {0, 1, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0};
  const std::vector<float> b = {100, 101, 102, 103, 1, 1, 1, 2, 0, 0, 0, 2};
  EXPECT_THAT(fuse(a, b, {3, 4}),
              ElementsAre(0.0f, 1.0f, 2.0f, 3.0f, 0.0f, 0.0f, 0.0f, 2.0f, 0.0f, 0.0f, 0.0f, 2.0f));
}

TEST(ArceeFusion, IdenticalModelsGiveTheBase) {
  EXPECT_THAT(fuse({1, -2, 3}, {1, -2, 3}), ElementsAre(1.0f, -2.0f, 3.0f));
}

TEST(ArceeFusion, OneElementIsTaken) {
  // A softmax over one element is 1 on both sides: KL = 0, I = 0 = threshold.
  EXPECT_THAT(fuse({1}, {3}), ElementsAre(3.0f));
}

TEST(ArceeFusion, TheBaseMayBeTheSecondInput) {
  const MethodCall call = make_call(fusion(), 2, 1, {});
  EXPECT_THAT(run_tile(fusion(), call, {{0, -1, 2, -3, 10}, {0, 0, 0, 0, 0}}),
              ElementsAre(0.0f, 0.0f, 0.0f, 0.0f, 10.0f));
}

}  // namespace
}  // namespace weld::test
