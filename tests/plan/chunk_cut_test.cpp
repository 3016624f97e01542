#include "plan/chunk_cut.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>

namespace weld {
namespace {

constexpr std::uint64_t kStep = std::uint64_t{1} << 20;
constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// The chunks of a tensor of numel elements cover [0, numel) in order, none empty (but the one
// chunk of an empty tensor) and none longer than a step.
void expect_covers(const ChunkCut& cut, std::uint64_t numel) {
  std::uint64_t at = 0;
  const std::uint64_t count = cut.count(numel);
  for (std::uint64_t c = 0; c < count; ++c) {
    EXPECT_EQ(cut.begin(c), at) << "chunk " << c;
    const std::uint64_t end = cut.end(c, numel);
    if (numel > 0) {
      EXPECT_GT(end, at) << "chunk " << c;
    }
    EXPECT_LE(end - at, cut.step) << "chunk " << c;
    at = end;
  }
  EXPECT_EQ(at, numel);
}

TEST(ChunkCut, ChunksAfterTheFirstStartOnTheFilesTwoMiBGrid) {
  for (const std::size_t size : {1, 2, 4, 8}) {
    for (const std::uint64_t offset : {std::uint64_t{8}, std::uint64_t{23072}, 2 * kMiB - 8, 3 * kMiB + 8 * 1000}) {
      const ChunkCut cut = aligned_chunk_cut(kStep, size, offset);
      const std::uint64_t numel = 5 * kStep + 3;
      SCOPED_TRACE(testing::Message() << size << "-byte values from byte " << offset);
      expect_covers(cut, numel);
      EXPECT_LT(cut.first, kStep);
      // One-byte values make chunks of 1 MiB: every other one starts on the grid.
      const std::uint64_t grid = size == 1 ? kMiB : kChunkAlignBytes;
      for (std::uint64_t c = 1; c < cut.count(numel); ++c)
        EXPECT_EQ((offset + cut.begin(c) * size) % grid, 0u) << "chunk " << c;
    }
  }
}

TEST(ChunkCut, DataOnTheGridKeepsWholeSteps) {
  for (const std::uint64_t offset : {std::uint64_t{0}, kChunkAlignBytes, 7 * kChunkAlignBytes}) {
    const ChunkCut cut = aligned_chunk_cut(kStep, 2, offset);
    EXPECT_EQ(cut.first, kStep);
    EXPECT_EQ(cut.count(3 * kStep), 3u);
  }
}

TEST(ChunkCut, SmallAndEmptyTensorsAreOneChunk) {
  const ChunkCut cut = aligned_chunk_cut(kStep, 2, 23072);
  EXPECT_EQ(cut.count(10), 1u);
  EXPECT_EQ(cut.end(0, 10), 10u);
  EXPECT_EQ(cut.count(0), 1u);
  EXPECT_EQ(cut.end(0, 0), 0u);
  expect_covers(cut, 10);
  expect_covers(ChunkCut{kStep, kStep}, 0);
}

// A value that straddles the grid (an odd offset for two-byte values) ends the first chunk
// just before it.
TEST(ChunkCut, OffsetsOffTheValuesRoundTheFirstChunkDown) {
  const ChunkCut cut = aligned_chunk_cut(kStep, 2, 2 * kMiB - 3);
  EXPECT_EQ(cut.first, 1u);
  expect_covers(cut, 3 * kStep);
}

}  // namespace
}  // namespace weld
