#include "tensor/streamed_select.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tensor/select.h"

namespace weld {
namespace {

// Feeds `keys` in tiles of `tile` keys until the selector is done; returns the passes made.
int run_passes(StreamedSelector& s, const std::vector<std::uint32_t>& keys, std::size_t tile) {
  int passes = 0;
  while (!s.done()) {
    ++passes;
    for (std::size_t begin = 0; begin < keys.size() && !s.done(); begin += tile)
      s.add(std::span(keys).subspan(begin, std::min(tile, keys.size() - begin)));
    s.end_pass();
  }
  return passes;
}

std::vector<std::uint32_t> clustered_keys(std::size_t n) {
  std::vector<std::uint32_t> keys(n);
  std::uint64_t state = 987654321;
  for (std::uint32_t& k : keys) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const auto r = static_cast<std::uint32_t>(state >> 33);
    k = (r % 3 == 0) ? (r % 7) << 16 | (r % 5) : r;  // long runs of equal keys, and spread ones
  }
  return keys;
}

TEST(StreamedSelect, EveryRankMatchesInMemorySelection) {
  const std::vector<std::uint32_t> keys = clustered_keys(6000);
  for (std::uint64_t rank = 0; rank < keys.size(); rank += 37) {
    StreamedSelector s(keys.size(), {rank});
    run_passes(s, keys, 1000);
    ASSERT_EQ(s.result(0), select_rank(keys, rank)) << rank;
  }
}

TEST(StreamedSelect, SeveralRanksAtOnceAndAnyTileSize) {
  const std::vector<std::uint32_t> keys = clustered_keys(5000);
  const std::vector<std::uint64_t> ranks = {0, 1, 2500, 2501, 4999, 1234};
  for (std::size_t tile : {1u, 7u, 4096u, 5000u}) {
    StreamedSelector s(keys.size(), ranks);
    run_passes(s, keys, tile);
    for (std::size_t i = 0; i < ranks.size(); ++i)
      EXPECT_EQ(s.result(i), select_rank(keys, ranks[i])) << "tile " << tile << " rank " << ranks[i];
  }
}

TEST(StreamedSelect, TwoPassesUnlessTheRankFallsAfterTheFirstOfARunOfEqualKeys) {
  const std::vector<std::uint32_t> distinct = {40, 10, 30, 20};
  StreamedSelector a(distinct.size(), {2});
  EXPECT_EQ(run_passes(a, distinct, 2), 2);
  EXPECT_EQ(a.result(0), rank_pair(30, 2));

  const std::vector<std::uint32_t> run = {5, 9, 5, 5, 5, 1};
  StreamedSelector first(run.size(), {1}), last(run.size(), {4}), inside(run.size(), {2});
  EXPECT_EQ(run_passes(first, run, 4), 2);
  EXPECT_EQ(first.result(0), rank_pair(5, 0));
  EXPECT_EQ(run_passes(last, run, 4), 3);
  EXPECT_EQ(last.result(0), rank_pair(5, 4));
  EXPECT_EQ(run_passes(inside, run, 4), 3);
  EXPECT_EQ(inside.result(0), rank_pair(5, 2));
}

TEST(StreamedSelect, NoRanksIsDoneAtOnce) {
  StreamedSelector s(10, {});
  EXPECT_TRUE(s.done());
}

}  // namespace
}  // namespace weld
