#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <limits>
#include <vector>

#include "tensor/select.h"

namespace weld {
namespace {

TEST(Select, RankOrdersByKeyThenByIndex) {
  const std::uint32_t keys[] = {5, 1, 5, 3};
  EXPECT_EQ(select_rank(keys, 0), rank_pair(1, 1));
  EXPECT_EQ(select_rank(keys, 1), rank_pair(3, 3));
  EXPECT_EQ(select_rank(keys, 2), rank_pair(5, 0));  // the tie goes to the lower index
  EXPECT_EQ(select_rank(keys, 3), rank_pair(5, 2));
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

namespace weld {
namespace {

// n keys with many repeats and spread digits: a third of them cluster in a few high digits.
std::vector<std::uint32_t> clustered_keys(std::size_t n, std::uint64_t state) {
  std::vector<std::uint32_t> keys(n);
  for (std::uint32_t& k : keys) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const std::uint32_t r = static_cast<std::uint32_t>(state >> 33);
    k = (r % 3 == 0) ? (r % 7) << 16 | (r % 5) : r;
  }
  return keys;
}

// Against a full sort of (key, index) pairs.
TEST(Select, EveryRankMatchesASort) {
  const std::vector<std::uint32_t> keys = clustered_keys(5000, 12345);
  std::vector<std::uint64_t> sorted;
  for (std::size_t i = 0; i < keys.size(); ++i) sorted.push_back(rank_pair(keys[i], i));
  std::sort(sorted.begin(), sorted.end());
  for (std::size_t rank = 0; rank < keys.size(); rank += 7)
    ASSERT_EQ(select_rank(keys, rank), sorted[rank]) << rank;
  EXPECT_EQ(select_rank(keys, keys.size() - 1), sorted.back());
}

TEST(Select, KeysAtSeveralRanksMatchASort) {
  const std::vector<std::uint32_t> keys = clustered_keys(3000, 99);
  std::vector<std::uint32_t> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  // Ranks out of order, repeated, sharing high digits and not.
  const std::vector<std::size_t> ranks = {2999, 0, 700, 701, 1499, 0, 1500, 2200};
  const std::vector<std::uint32_t> found = select_keys(keys, ranks);
  ASSERT_EQ(found.size(), ranks.size());
  for (std::size_t r = 0; r < ranks.size(); ++r) EXPECT_EQ(found[r], sorted[ranks[r]]) << ranks[r];
  EXPECT_TRUE(select_keys(keys, {}).empty());
}

}  // namespace
}  // namespace weld
