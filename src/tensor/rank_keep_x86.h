// AVX-512 / AVX2 bodies of keep_by_rank's sweeps (tensor/rank_keep.cpp), chosen at run time
// like the conversions: each takes whole vectors and stops where the scalar body must take
// over, which makes the same comparisons.
#pragma once

#include <cstddef>
#include <cstdint>

#include "io/dtype.h"
#include "tensor/convert_x86.h"
#include "tensor/rng.h"

namespace weld {

// One row's keep test. Element j (a nonzero magnitude key) with draw u[j] is kept when
// u[j] < lowest, dropped when u[j] >= highest, and in between, in the band, kept when it
// outranks its rival (`rising`) or is outranked by it (not `rising`). The rival is the
// multiply-shift of the element's rival bits onto the `choices` = n - 1 other elements; a
// product whose low half is below `reject_below` is drawn again by the scalar body. Zeros
// (key 0) are left as they are.
struct KeepPass {
  const std::uint32_t* keys;  // magnitude keys of the row as it came
  const float* u;
  float* row;
  float lowest;
  float highest;
  bool rising;
  std::uint32_t choices;
  std::uint32_t reject_below;
};

// The tally's lanes: |row[j]| as it came goes to before[j % 8], and to after[j % 8] when the
// value left is not +0, whose bit kept_first + j is then set in `kept` (when not null).
struct KeepTallyLanes {
  double* before;
  double* after;
  std::uint8_t* kept;
  std::uint64_t kept_first;
};

namespace x86 {

// The first sweep, from element `from` on: zeroes the elements the draw drops, and appends
// to band[count...] (counting them in `count`) the index of each element in the band.
// Returns where it stopped, n's last whole vector. REQUIRES: room in band for 16 indices past
// the last one appended; isa <= detected_isa(); from <= n.
std::size_t settle_by_draws(const KeepPass& pass, std::size_t from, std::size_t n, std::uint32_t* band,
                            std::size_t& count, Isa isa = detected_isa()) noexcept;

// The first sweep on the fused path (tensor/lanes.h), over a whole row of n elements taken
// from the inputs' own bytes x and b: row[j] = x[j] - b[j] and keys[j] its magnitude key, then
// with u[j] = draws.draw(first + j), drawn in registers, settled as settle_by_draws settles
// them (zeroing the dropped, listing the band). The same row, keys and band as converting,
// drawing and settling one after the other. REQUIRES: lanes_are_fused(), is_lane_dtype(dtype),
// room in band as for settle_by_draws.
void settle_lanes(const std::byte* x, const std::byte* b, DType dtype, const CounterRng& draws, std::uint64_t first,
                  std::size_t n, float lowest, float highest, float* row, std::uint32_t* keys, std::uint32_t* band,
                  std::size_t& count) noexcept;

// The second: band elements [from, m) of `band`, whose rival bits `bits` holds, compared
// with their rivals; lists the indices of those that lose in band[dropped...] (counting them
// in `dropped`, which must be at most `from`), for the caller to zero. Returns where it
// stopped: m's last whole vector, or the first vector that holds a rejected rival draw.
std::size_t settle_band(const KeepPass& pass, std::uint32_t* band, const std::uint32_t* bits, std::size_t from,
                        std::size_t m, std::size_t& dropped, Isa isa = detected_isa()) noexcept;

// The third, with a tally: tallies elements from `from` on of the row as the test left it.
// Returns where it stopped, n's last whole vector.
std::size_t tally_kept(const KeepPass& pass, const KeepTallyLanes& tally, std::size_t from, std::size_t n,
                       Isa isa = detected_isa()) noexcept;

}  // namespace x86
}  // namespace weld
