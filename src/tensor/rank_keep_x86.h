// AVX-512 / AVX2 bodies of keep_by_rank (tensor/rank_keep.cpp), chosen at run time like the
// conversions: each keeps or drops whole vectors of a row and stops where the scalar body
// must take over, which makes the same comparisons.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/convert_x86.h"

namespace weld {

// One row's keep test. Element j (a nonzero magnitude key) with draw u[j] is kept when
// u[j] < lowest, dropped when u[j] >= highest, and in between kept when it outranks its rival
// (`rising`) or is outranked by it (not `rising`). The rival is the multiply-shift of bits[j]
// onto the `choices` = n - 1 other elements; a product whose low half is below
// `reject_below` is rejected and left to the scalar body. Zeros (key 0) are left as they are.
// With `before` set, the tally too: |row[j]| before the test goes to before[j % 8] and after
// it to after[j % 8], and the bit of each element whose value left is not +0 is set in
// `kept` (when not null), element j at bit kept_first + j.
struct KeepPass {
  const std::uint32_t* keys;
  const float* u;
  const std::uint32_t* bits;
  float* row;
  float lowest;
  float highest;
  bool rising;
  std::uint32_t choices;
  std::uint32_t reject_below;
  double* before = nullptr;
  double* after = nullptr;
  std::uint8_t* kept = nullptr;
  std::uint64_t kept_first = 0;
};

namespace x86 {

// Tests whole vectors of elements from `from` on, and returns where it stopped: n's last
// whole vector, or the first vector that holds a rejected rival draw. REQUIRES: isa <=
// detected_isa(); from <= n.
std::size_t keep_vectors(const KeepPass& pass, std::size_t from, std::size_t n, Isa isa = detected_isa()) noexcept;

}  // namespace x86
}  // namespace weld
