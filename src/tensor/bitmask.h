// One bit per element of a tensor: which elements a random mask kept, remembered between the
// passes of a streamed merge so that the merge pass need not draw (or rank rows) again.
// Bit i is bit i % 8 of byte i / 8.
#pragma once

#include <cstdint>
#include <span>

namespace weld {

// Bytes for the bits of n elements.
constexpr std::uint64_t bitmask_bytes(std::uint64_t n) { return (n + 7) / 8; }

// Sets the bit of element begin + j for every v[j] that is not +0 (-0 counts as set: a value
// that reads back as +0 with its bit clear is the same either way).
void set_bits_of_nonzero(std::span<const float> v, std::uint64_t begin, std::uint8_t* bits) noexcept;

// ORs the low `count` bits of `mask` into the bits of elements at, ..., at + count - 1.
// REQUIRES: count <= 32.
inline void or_bits(std::uint8_t* bits, std::uint64_t at, std::uint32_t mask, unsigned count) noexcept {
  const unsigned shift = at % 8;
  const std::uint64_t shifted = (std::uint64_t{mask} & ((std::uint64_t{1} << count) - 1)) << shift;
  for (unsigned byte = 0; 8 * byte < shift + count; ++byte)
    bits[at / 8 + byte] = static_cast<std::uint8_t>(bits[at / 8 + byte] | (shifted >> (8 * byte)));
}

// or_bits of 16 bits: where they start a byte, as one 16-bit OR (or_bits' loop over bytes was a
// third of DELLA's tally sweep).
inline void or_16_bits(std::uint8_t* bits, std::uint64_t at, std::uint32_t mask) noexcept {
  if (at % 8 != 0) return or_bits(bits, at, mask, 16);
  std::uint16_t two;
  __builtin_memcpy(&two, bits + at / 8, sizeof two);
  two = static_cast<std::uint16_t>(two | mask);
  __builtin_memcpy(bits + at / 8, &two, sizeof two);
}

// v[j] = +0 where the bit of element begin + j is clear; the rest are left as they are.
void zero_where_clear(std::span<float> v, std::uint64_t begin, const std::uint8_t* bits) noexcept;

}  // namespace weld
