// The rank of every element of a row by magnitude (smallest first, ties to the lower index),
// as DELLA's rescale by probability needs: a stable LSD radix sort of the magnitude keys, linear
// in the row length. A comparison sort of each row was most of DELLA's time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace weld {

// Work buffers for magnitude_ranks of rows of up to n elements.
inline constexpr std::size_t rank_work_size(std::size_t n) { return 4 * n; }

// rank[j] = the rank of |row[j]| in the row. REQUIRES: rank.size() == row.size() < 2^32,
// work.size() >= rank_work_size(row.size()).
void magnitude_ranks(std::span<const float> row, std::span<std::uint32_t> work,
                     std::span<std::uint32_t> rank) noexcept;

}  // namespace weld
