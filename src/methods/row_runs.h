// Rows along the last axis, for methods with a statistic per row.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace weld {

// Calls fn(row, first, count) for each run [first, first + count) of a tile's elements that
// lie in one row (no division per element), the tile being elements [begin, begin + n) of
// a tensor cut into rows of row_length.
template <typename Fn>
void for_each_row_run(std::uint64_t begin, std::size_t n, std::uint64_t row_length, Fn fn) {
  for (std::size_t j = 0; j < n;) {
    const std::uint64_t row = (begin + j) / row_length;
    const auto row_end = static_cast<std::size_t>((row + 1) * row_length - begin);
    const std::size_t count = std::min(n, row_end) - j;
    fn(row, j, count);
    j += count;
  }
}

}  // namespace weld
