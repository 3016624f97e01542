#include "tensor/row_rank.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace weld {
namespace {

// The definition: sort indices by (|x|, index).
std::vector<std::uint32_t> reference_ranks(const std::vector<float>& row) {
  std::vector<std::uint32_t> order(row.size()), rank(row.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return std::fabs(row[a]) < std::fabs(row[b]); });
  for (std::uint32_t r = 0; r < order.size(); ++r) rank[order[r]] = r;
  return rank;
}

std::vector<std::uint32_t> ranks(const std::vector<float>& row) {
  std::vector<std::uint32_t> work(rank_work_size(row.size())), rank(row.size());
  magnitude_ranks(row, work, rank);
  return rank;
}

TEST(RowRank, HandCase) {
  // |x|: 3 1 2 1 0 -> ranks 4 1 3 2 0 (the two 1s keep their order; -1 and 1 tie).
  EXPECT_EQ(ranks({3.0f, -1.0f, 2.0f, 1.0f, 0.0f}), (std::vector<std::uint32_t>{4, 1, 3, 2, 0}));
  EXPECT_EQ(ranks({5.0f}), (std::vector<std::uint32_t>{0}));
  EXPECT_TRUE(ranks({}).empty());
}

TEST(RowRank, MatchesAStableSortForEveryLengthAndSpread) {
  std::uint64_t state = 77;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state >> 33);
  };
  for (std::size_t n : {2u, 3u, 4u, 5u, 7u, 64u, 255u, 2048u, 5633u}) {
    std::vector<float> spread(n), clustered(n), same(n, -0.25f);
    for (std::size_t j = 0; j < n; ++j) {
      spread[j] = (static_cast<float>(next()) / 4294967296.0f - 0.5f) * std::ldexp(1.0f, static_cast<int>(next() % 40) - 20);
      clustered[j] = static_cast<float>(static_cast<int>(next() % 7) - 3) * 0.125f;  // few values, many ties
    }
    EXPECT_EQ(ranks(spread), reference_ranks(spread)) << n;
    EXPECT_EQ(ranks(clustered), reference_ranks(clustered)) << n;
    EXPECT_EQ(ranks(same), reference_ranks(same)) << n;  // every pass skipped
  }
}

}  // namespace
}  // namespace weld
