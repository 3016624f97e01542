#include "tensor/streamed_select.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "tensor/select.h"

namespace weld {
namespace {

// Feeds the keys each pass asks for in tiles of `tile` keys until the selector is done.
void run_passes(StreamedSelector& s, const std::vector<std::uint32_t>& keys, std::size_t tile) {
  while (!s.done()) {
    const std::vector<KeyRange> ranges = s.ranges();
    for (const KeyRange& r : ranges) {
      for (std::uint64_t begin = r.begin; begin < r.end && !s.done(); begin += tile)
        s.add(begin, std::span(keys).subspan(begin, std::min<std::uint64_t>(tile, r.end - begin)));
    }
    s.end_pass();
  }
}

std::uint32_t next_random(std::uint64_t& state) {
  state = state * 6364136223846793005ull + 1442695040888963407ull;
  return static_cast<std::uint32_t>(state >> 33);
}

// Long runs of equal keys among spread ones.
std::vector<std::uint32_t> clustered_keys(std::size_t n) {
  std::vector<std::uint32_t> keys(n);
  std::uint64_t state = 987654321;
  for (std::uint32_t& k : keys) {
    const std::uint32_t r = next_random(state);
    k = (r % 3 == 0) ? (r % 7) << 16 | (r % 5) : r;
  }
  return keys;
}

// Keys like magnitudes of weights: a few exponents, every mantissa.
std::vector<std::uint32_t> spread_keys(std::size_t n) {
  std::vector<std::uint32_t> keys(n);
  std::uint64_t state = 12345;
  for (std::uint32_t& k : keys) k = (0x3a000000u + (next_random(state) & 0x03ffffffu));
  return keys;
}

// Above the count that is read whole, so the sample and the window are used.
constexpr std::size_t kLarge = std::size_t{1} << 19;

void expect_selects(const std::vector<std::uint32_t>& keys, const std::vector<std::uint64_t>& ranks,
                    std::size_t tile, int full_passes, std::uint64_t max_window = StreamedSelector::kMaxWindow) {
  StreamedSelector s(keys.size(), ranks, max_window);
  run_passes(s, keys, tile);
  for (std::size_t i = 0; i < ranks.size(); ++i)
    EXPECT_EQ(s.result(i), select_rank(keys, ranks[i])) << "tile " << tile << " rank " << ranks[i];
  EXPECT_EQ(s.full_passes(), full_passes) << "tile " << tile << " first rank " << ranks.front();
}

TEST(StreamedSelect, SmallCountsAreReadOnceAndSelectedInMemory) {
  const std::vector<std::uint32_t> keys = clustered_keys(6000);
  for (std::uint64_t rank = 0; rank < keys.size(); rank += 37) expect_selects(keys, {rank}, 1000, 1);
  expect_selects(keys, {0, 1, 2500, 2501, 5999, 1234}, 7, 1);
}

TEST(StreamedSelect, LargeCountsTakeOneFullPassAfterTheSample) {
  const std::vector<std::uint32_t> keys = spread_keys(kLarge);
  const std::vector<std::uint64_t> ranks = {0, 1, kLarge / 2, kLarge / 2 + 1, kLarge - 1, 12345, kLarge / 100};
  for (std::size_t tile : {4096u, 1000u, static_cast<unsigned>(kLarge)}) expect_selects(keys, ranks, tile, 1);
}

TEST(StreamedSelect, RanksInRunsOfEqualKeysReadOnePieceAgain) {
  const std::vector<std::uint32_t> clustered = clustered_keys(kLarge);
  for (std::uint64_t rank = 0; rank < kLarge; rank += kLarge / 13) expect_selects(clustered, {rank}, 4096, 1);
  // One key everywhere: the window is that key, and the rank is found in the piece that holds it.
  const std::vector<std::uint32_t> same(kLarge, 7);
  expect_selects(same, {kLarge / 2, 3, kLarge - 1}, 4096, 1);
  // Given as one tile (the whole-tensor path), the piece is all of it.
  expect_selects(same, {kLarge / 3}, kLarge, 2);
}

TEST(StreamedSelect, AMisleadingSampleFallsBackToExactHistogramPasses) {
  // Keys are zero exactly where the sample reads and spread elsewhere, so every window the
  // sample suggests is wrong.
  const auto zero_where_sampled = [](std::vector<std::uint32_t> keys) {
    const StreamedSelector probe(kLarge, {0});
    for (const KeyRange& r : probe.ranges()) std::fill(keys.begin() + r.begin, keys.begin() + r.end, 0u);
    return keys;
  };
  // Rank 5 is a zero, which the window does hold.
  expect_selects(zero_where_sampled(spread_keys(kLarge)), {kLarge / 2, 5}, 4096, 3);
  // A rank after the first of a run of equal keys takes the third, early-stopping pass too.
  expect_selects(zero_where_sampled(std::vector<std::uint32_t>(kLarge, 5)), {kLarge / 2}, 4096, 4);
}

// Windows here expect about 16 Ki keys inside (8 Ki for rank 12345); one whose room for them
// would be more than it may keep counts them by bin, and keeps those of the bins around where
// the counts so far place the rank. Keys spread alike over the tensor place it well.
TEST(StreamedSelect, AWindowWiderThanItKeepsSelectsAmongTheBinsItKept) {
  const std::vector<std::uint32_t> keys = spread_keys(kLarge);
  const std::vector<std::uint64_t> ranks = {kLarge / 2, kLarge / 2 + 1, 12345, kLarge - 1};
  for (std::size_t tile : {4096u, 1000u}) expect_selects(keys, ranks, tile, 1, 12000);
  // Runs of equal keys inside the windows and at their bounds.
  const std::vector<std::uint32_t> clustered = clustered_keys(kLarge);
  for (std::uint64_t rank = 0; rank < kLarge; rank += kLarge / 13) expect_selects(clustered, {rank}, 4096, 1, 12000);
}

// Keys in increasing order: the window's keys come last among those seen when the buffers
// fill, so the bins kept are its lowest, and the rank's bin is kept in one more pass.
TEST(StreamedSelect, AWindowWhoseRankTheCountsSoFarMisplaceIsNarrowedByOneMorePass) {
  std::vector<std::uint32_t> keys = spread_keys(kLarge);
  std::sort(keys.begin(), keys.end());
  for (std::size_t tile : {4096u, 1000u}) expect_selects(keys, {kLarge / 2, kLarge / 2 + 1}, tile, 2, 12000);
  // The same with too little room for the counts to place any rank in what is kept.
  const std::vector<std::uint64_t> ranks = {kLarge / 2, kLarge / 2 + 1, 12345, kLarge - 1};
  for (std::size_t tile : {4096u, 1000u}) expect_selects(spread_keys(kLarge), ranks, tile, 2, 1000);
}

// Whatever the room, and wherever the kept bins narrow to, the pairs are exact, and the rank's
// bin takes at most one more pass (two where a bin holds frequent keys side by side).
TEST(StreamedSelect, EveryRoomForAWindowSelectsTheSamePairs) {
  std::vector<std::uint64_t> ranks;
  for (std::uint64_t rank = 7; rank < kLarge; rank += kLarge / 11) ranks.push_back(rank);
  const auto check = [&](const std::vector<std::uint32_t>& keys, int most_passes) {
    for (std::uint64_t room : {300u, 2000u, 5000u, 9000u, 15000u, 30000u}) {
      StreamedSelector s(kLarge, ranks, room);
      run_passes(s, keys, 1000);
      for (std::size_t i = 0; i < ranks.size(); ++i)
        EXPECT_EQ(s.result(i), select_rank(keys, ranks[i])) << "room " << room << " rank " << ranks[i];
      EXPECT_LE(s.full_passes(), most_passes) << "room " << room;
    }
  };
  check(spread_keys(kLarge), 2);
  check(clustered_keys(kLarge), 3);
}

// Whether the sample of a selection over kLarge keys reads element i.
bool sampled(std::size_t i) {
  static const std::vector<KeyRange> ranges = StreamedSelector(kLarge, {0}).ranges();
  return std::any_of(ranges.begin(), ranges.end(), [&](const KeyRange& r) { return r.begin <= i && i < r.end; });
}

// The rank of the first of `key`'s occurrences.
std::uint64_t first_rank_of(std::vector<std::uint32_t> keys, std::uint32_t key) {
  std::sort(keys.begin(), keys.end());
  return static_cast<std::uint64_t>(std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
}

// One key in 50 is the median's, more than a window keeps, fewer than it holds: the bin that
// holds it holds no other key. The sample's guess at the median's key is that key, counted by
// piece, so a rank among its occurrences reads one piece again; where the sample has not seen
// it, a pass finds the rank's occurrence of it, and stops there.
TEST(StreamedSelect, AKeyTooFrequentToKeepIsFoundInItsRun) {
  const std::vector<std::uint32_t> spread = spread_keys(kLarge);
  std::vector<std::uint32_t> sorted = spread;
  std::sort(sorted.begin(), sorted.end());
  const std::uint32_t median = sorted[kLarge / 2];
  std::vector<std::uint32_t> keys = spread, unseen = spread;
  for (std::size_t i = 0; i < kLarge; i += 50) {
    keys[i] = median;
    if (!sampled(i)) unseen[i] = median;
  }
  for (const std::uint64_t occurrence : {100u, 5000u}) {
    expect_selects(keys, {first_rank_of(keys, median) + occurrence}, 4096, 1, 1000);
    expect_selects(unseen, {first_rank_of(unseen, median) + occurrence}, 4096, 2, 1000);
  }
  expect_selects(keys, {kLarge / 3}, 4096, 2, 1000);  // away from it, narrowed once
  // Two keys next to each other, as frequent together, share a bin: it is narrowed once more.
  for (std::size_t i = 50; i < kLarge; i += 100) keys[i] = median + 1;
  expect_selects(keys, {kLarge / 2}, 4096, 3, 1000);
  expect_selects(keys, {kLarge / 2 + 2000}, 4096, 3, 1000);
}

// Many ranks of one selector, whose searches end in runs of the whole tensor and in pieces of
// it in the same pass: that pass reads each element once.
TEST(StreamedSelect, RunsOfManyRanksReadTheirPiecesOnce) {
  std::vector<std::uint32_t> keys = clustered_keys(kLarge);
  for (std::size_t i = 0; i < kLarge; i += 50) keys[i] = 0x3a123456u;  // a frequent key among the spread ones
  std::vector<std::uint64_t> ranks;
  for (std::uint64_t rank = 0; rank < kLarge; rank += kLarge / 29) ranks.push_back(rank);
  for (std::uint64_t rank = 0; rank < kLarge; rank += kLarge / 7) ranks.push_back(rank + 1);
  StreamedSelector s(kLarge, ranks, 1000);
  run_passes(s, keys, 4096);
  for (std::size_t i = 0; i < ranks.size(); ++i) EXPECT_EQ(s.result(i), select_rank(keys, ranks[i])) << ranks[i];
}

TEST(StreamedSelect, NoRanksIsDoneAtOnce) {
  StreamedSelector s(10, {});
  EXPECT_TRUE(s.done());
}

}  // namespace
}  // namespace weld
