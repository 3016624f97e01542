#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tensor/select.h"

namespace weld {
namespace {

TEST(Select, RankOrdersByKeyThenByIndex) {
  const std::uint32_t keys[] = {5, 1, 5, 3};
  std::vector<std::uint64_t> scratch;
  EXPECT_EQ(select_rank(keys, 0, scratch), rank_pair(1, 1));
  EXPECT_EQ(select_rank(keys, 1, scratch), rank_pair(3, 3));
  EXPECT_EQ(select_rank(keys, 2, scratch), rank_pair(5, 0));  // the tie goes to the lower index
  EXPECT_EQ(select_rank(keys, 3, scratch), rank_pair(5, 2));
}

TEST(Select, MagnitudeKeyOrdersAbsoluteValuesWithNaNLast) {
  EXPECT_LT(magnitude_key(0.5f), magnitude_key(-0.75f));
  EXPECT_EQ(magnitude_key(-2.0f), magnitude_key(2.0f));
  EXPECT_EQ(magnitude_key(-0.0f), magnitude_key(0.0f));
  EXPECT_LT(magnitude_key(1e-45f), magnitude_key(1e-30f));  // subnormals below normals
  EXPECT_LT(magnitude_key(std::numeric_limits<float>::infinity()),
            magnitude_key(std::numeric_limits<float>::quiet_NaN()));
}

}  // namespace
}  // namespace weld
