#include "tensor/window_scan.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "support/isas.h"

namespace weld {
namespace {

constexpr std::uint32_t kMax = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint32_t kGuard = 0xdeadbeef;

struct Scanned {
  WindowScan counts;
  std::vector<std::uint32_t> keys, index;
};

// The definition, one key at a time.
Scanned by_definition(const std::vector<std::uint32_t>& keys, std::uint32_t low, std::uint32_t high,
                      std::uint64_t begin) {
  Scanned s;
  for (std::size_t j = 0; j < keys.size(); ++j) {
    const std::uint32_t k = keys[j];
    s.counts.below += k < low;
    s.counts.equal_low += k == low;
    s.counts.equal_high += k == high;
    if (low < k && k < high) {
      s.keys.push_back(k);
      s.index.push_back(static_cast<std::uint32_t>(begin + j));
    }
  }
  s.counts.inside = s.keys.size();
  return s;
}

// Through scan_window, with guards just past the room it is given: it must not write there.
Scanned scanned(const std::vector<std::uint32_t>& keys, std::uint32_t low, std::uint32_t high,
                std::uint64_t begin, x86::Isa isa) {
  std::vector<std::uint32_t> out_keys(keys.size() + 1, kGuard), out_index(keys.size() + 1, kGuard);
  Scanned s;
  s.counts = scan_window(keys, low, high, begin, out_keys.data(), out_index.data(), isa);
  EXPECT_EQ(out_keys.back(), kGuard);
  EXPECT_EQ(out_index.back(), kGuard);
  s.keys.assign(out_keys.begin(), out_keys.begin() + static_cast<std::ptrdiff_t>(s.counts.inside));
  s.index.assign(out_index.begin(), out_index.begin() + static_cast<std::ptrdiff_t>(s.counts.inside));
  return s;
}

// Keys of few distinct values (runs of ties, as bf16 task vectors give), the extremes, and a
// stretch where every key is inside a wide window, so some vectors hold 0, some 16 keys inside.
std::vector<std::uint32_t> keys_of(std::size_t n) {
  std::vector<std::uint32_t> keys(n);
  for (std::size_t j = 0; j < n; ++j) keys[j] = static_cast<std::uint32_t>((j * 7919) % 61) * 1000;
  for (std::size_t j = 0; j < n; j += 13) keys[j] = j % 2 ? 0 : kMax;
  for (std::size_t j = n / 2; j < n / 2 + 40 && j < n; ++j) keys[j] = 30500;
  return keys;
}

TEST(ScanWindow, CountsAndGathersAsTheDefinitionOnEveryInstructionSet) {
  struct Window {
    std::uint32_t low, high;
  };
  const Window windows[] = {
      {20000, 40000},  // a wide window
      {30000, 31000},  // one value inside, bounds with ties
      {30000, 30000},  // low == high: nothing inside
      {30000, 30001},  // nothing strictly between
      {0, kMax},       // bounds at the extremes
      {0, 0},
      {kMax, kMax},
  };
  // Lengths: empty, shorter than a vector, whole vectors, and vectors with a tail.
  for (std::size_t n : {0u, 5u, 16u, 37u, 1000u}) {
    const std::vector<std::uint32_t> keys = keys_of(n);
    for (const Window& w : windows) {
      for (std::uint64_t begin : {std::uint64_t{0}, std::uint64_t{3} << 30}) {
        const Scanned expected = by_definition(keys, w.low, w.high, begin);
        for (x86::Isa isa : test::runnable_isas()) {
          const Scanned got = scanned(keys, w.low, w.high, begin, isa);
          const auto where = testing::Message() << "n " << n << " window [" << w.low << ", " << w.high
                                                << "] begin " << begin << " isa " << static_cast<int>(isa);
          EXPECT_EQ(got.counts.below, expected.counts.below) << where;
          EXPECT_EQ(got.counts.equal_low, expected.counts.equal_low) << where;
          EXPECT_EQ(got.counts.equal_high, expected.counts.equal_high) << where;
          EXPECT_EQ(got.keys, expected.keys) << where;
          EXPECT_EQ(got.index, expected.index) << where;
        }
      }
    }
  }
}

TEST(ScanWindow, AWindowHoldingEveryKeyGathersThemAllInOrder) {
  std::vector<std::uint32_t> keys(100);
  for (std::size_t j = 0; j < keys.size(); ++j) keys[j] = static_cast<std::uint32_t>(1000 - j);
  for (x86::Isa isa : test::runnable_isas()) {
    const Scanned got = scanned(keys, 1, 2000, 7, isa);
    EXPECT_EQ(got.keys, keys);
    ASSERT_EQ(got.index.size(), keys.size());
    EXPECT_EQ(got.index.front(), 7u);
    EXPECT_EQ(got.index.back(), 106u);
    EXPECT_EQ(got.counts.below, 0u);
  }
}

}  // namespace
}  // namespace weld
