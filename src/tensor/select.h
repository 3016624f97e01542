// Order statistics for top-k and quantile selection, by radix selection, not by sorting:
// three linear passes over the keys and two 64 Ki-bin histograms, no copy of the data.
//
// Elements are ordered by an unsigned 32-bit key, ties broken by the lower index: each
// element is the packed pair (key << 32 | index), so the order is total and every rank is
// one exact element, whatever the values (NaN included). REQUIRES: n < 2^32.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace weld {

// Keys are selected a 16-bit digit at a time, the high one first: histograms of this many bins.
inline constexpr std::size_t kSelectDigits = std::size_t{1} << 16;

// Order of magnitudes: |x| as bits (monotonic for non-negative floats; NaN above +Inf).
inline std::uint32_t magnitude_key(float x) noexcept {
  std::uint32_t bits;
  __builtin_memcpy(&bits, &x, sizeof bits);
  return bits & 0x7fffffffu;
}

inline std::uint64_t rank_pair(std::uint32_t key, std::size_t index) noexcept {
  return (std::uint64_t{key} << 32) | static_cast<std::uint32_t>(index);
}

// The packed pair at `rank` (0 = smallest) among `keys`.
std::uint64_t select_rank(std::span<const std::uint32_t> keys, std::size_t rank);

// The keys alone at several ranks (each < keys.size()), in order: one pass counts the high
// digits for all of them, and one more per distinct high digit among them counts the low
// ones, where select_rank makes three passes for each.
std::vector<std::uint32_t> select_keys(std::span<const std::uint32_t> keys, std::span<const std::size_t> ranks);

}  // namespace weld
