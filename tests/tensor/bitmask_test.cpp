#include "tensor/bitmask.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace weld {
namespace {

// Elements [0, 40) of a tensor in three uneven pieces, so that pieces start and end inside bytes.
constexpr std::size_t kBits = 40;
constexpr std::size_t kBitCuts[] = {0, 3, 21, kBits};

std::vector<float> values() {
  std::vector<float> v(kBits);
  for (std::size_t i = 0; i < kBits; ++i) v[i] = i % 3 == 0 ? 0.0f : static_cast<float>(i) - 20.0f;  // 20 is 0 too
  v[7] = -0.0f;  // not +0: kept
  return v;
}

TEST(Bitmask, BitsMarkEveryElementThatIsNotPlusZero) {
  const std::vector<float> v = values();
  std::vector<std::uint8_t> bits(bitmask_bytes(kBits), 0);
  for (std::size_t p = 0; p + 1 < std::size(kBitCuts); ++p)
    set_bits_of_nonzero(std::span(v).subspan(kBitCuts[p], kBitCuts[p + 1] - kBitCuts[p]), kBitCuts[p], bits.data());
  for (std::size_t i = 0; i < kBits; ++i) {
    const bool expected = i == 7 || (i % 3 != 0 && i != 20);
    EXPECT_EQ((bits[i / 8] >> (i % 8)) & 1, expected ? 1 : 0) << "element " << i;
  }
}

TEST(Bitmask, ZeroWhereClearKeepsExactlyTheMarkedElements) {
  std::vector<std::uint8_t> bits(bitmask_bytes(kBits), 0);
  for (std::size_t i = 0; i < kBits; i += 2) bits[i / 8] = static_cast<std::uint8_t>(bits[i / 8] | 1u << (i % 8));
  std::vector<float> v(kBits);
  for (std::size_t i = 0; i < kBits; ++i) v[i] = -1.5f - static_cast<float>(i);
  for (std::size_t p = 0; p + 1 < std::size(kBitCuts); ++p)
    zero_where_clear(std::span(v).subspan(kBitCuts[p], kBitCuts[p + 1] - kBitCuts[p]), kBitCuts[p], bits.data());
  for (std::size_t i = 0; i < kBits; ++i) {
    if (i % 2 == 0) {
      EXPECT_EQ(v[i], -1.5f - static_cast<float>(i)) << "element " << i;
    } else {
      EXPECT_EQ(v[i], 0.0f) << "element " << i;
      EXPECT_FALSE(std::signbit(v[i])) << "element " << i << " must be +0";
    }
  }
}

TEST(Bitmask, OrBitsSetsItsCountOfBitsFromAnyBitAndNoOthers) {
  for (std::uint64_t at : {0u, 3u, 8u, 13u}) {
    std::vector<std::uint8_t> bits(6, 0);
    bits[5] = 0x80;                                  // already set: stays set
    or_bits(bits.data(), at, 0xffff0000u | 0x8421u, 16);  // the high bits are past count: ignored
    for (std::uint64_t i = 0; i < 8 * bits.size(); ++i) {
      const bool inside = i >= at && i < at + 16;
      const bool expected = (inside && ((0x8421u >> (i - at)) & 1u)) || i == 47;
      EXPECT_EQ((bits[i / 8] >> (i % 8)) & 1, expected ? 1 : 0) << "at " << at << " bit " << i;
    }
  }
}

}  // namespace
}  // namespace weld
