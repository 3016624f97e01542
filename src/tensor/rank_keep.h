// DELLA's keep test for a row: element j survives with a probability linear in the rank of
// |row[j]| in the row, p(rank_j), without ranking the row. Ranking (a histogram of the
// magnitudes bounding each rank, exact ranks for the few it left open) was most of a DELLA
// merge's time. Instead, with its uniform draw u: the element is kept when u < p(0) and
// dropped when u >= p(n - 1), whatever its rank; in between, a band of probability
// |p(n - 1) - p(0)|, it is kept when it outranks a rival drawn uniformly from the row's
// n - 1 other elements, which happens with probability rank_j / (n - 1) (when p rises with
// the rank; when it falls, when the rival outranks it). In all
//   P(kept) = p(0) + (p(n - 1) - p(0)) rank_j / (n - 1) = p(rank_j),
// independently for every element: the distribution of ranking the row and drawing against
// p(rank_j), exactly but for the 24 bits of u. Each element costs a comparison, and one in
// the band a gathered key: a first sweep settles the elements the draw decides and lists the
// band, a second compares the listed ones with their rivals, 16 at a time (in one sweep, a
// vector of 16 with any element in the band gathered, which at epsilon 0.1 was 97% of them
// and a third of a DELLA merge's time).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "io/dtype.h"
#include "tensor/convert_x86.h"
#include "tensor/lane_sum.h"
#include "tensor/rng.h"

namespace weld {

// p(rank) = lowest + step * rank, computed in double.
struct RankProbability {
  double lowest;
  double step;
  double at(std::uint32_t rank) const noexcept { return lowest + step * static_cast<double>(rank); }
};

// What keep_by_rank can tally in the same sweep, for DELLA's L1 pass: the L1 norms of the row
// before and after the test, as the next row.size() terms of each sum (|row[j]| in double,
// added as LaneSum::add adds them, to the bit), and the bits of the elements that survive
// (set where the value left is not +0, as set_bits_of_nonzero sets them), bit first + j for
// element j, unless `kept` is null.
struct KeepTally {
  LaneSum* before;
  LaneSum* after;
  std::uint8_t* kept;
};

// Work buffers for keep_by_rank on rows of up to n elements: the keys, the band and its
// rivals' bits (each with room for a vector past its end).
inline constexpr std::size_t rank_keep_work_size(std::size_t n) { return 3 * n + 32; }

// Zeroes row[j] unless it is kept as above: u[j] is its draw, element first + j of `rivals`
// (CounterRng::draw_bits) draws its rival. "Outranks" is by magnitude_key, ties to the
// higher index, as magnitude_ranks ranks. Zeros (of either sign) are left as they are.
// REQUIRES: u.size() == row.size() < 2^32; work.size() >= rank_keep_work_size(row.size()).
// Tests pass each instruction set in turn (REQUIRES: isa <= x86::detected_isa()).
// With a tally, also tallies the row as above.
void keep_by_rank(std::span<float> row, std::span<const float> u, RankProbability p, const CounterRng& rivals,
                  std::uint64_t first, std::span<std::uint32_t> work, const KeepTally* tally = nullptr,
                  x86::Isa isa = x86::detected_isa()) noexcept;

// keep_by_rank with a tally for a row of a task vector given as the inputs' own bytes x and b
// (tensor/lanes.h), with u[j] = draws.draw(first + j): row gets d = x - b as the test leaves
// it, and the tally and the bits are keep_by_rank's to the bit. Converting, drawing and
// settling are one sweep, with the draws made in registers (DELLA's L1 pass on the fused
// path). REQUIRES: lanes_are_fused(), is_lane_dtype(dtype), as keep_by_rank.
void keep_by_rank_lanes(const std::byte* x, const std::byte* b, DType dtype, std::span<float> row, RankProbability p,
                        const CounterRng& draws, const CounterRng& rivals, std::uint64_t first,
                        std::span<std::uint32_t> work, const KeepTally& tally) noexcept;

// The index in [0, n) \ {j} that rival bits `bits` of element `element` pick, uniformly
// (Lemire's multiply-shift with rejection; a rejected draw, rarer than 1 in n / 2^32, is
// drawn again from rivals.bits()). For keep_by_rank and its tests. REQUIRES: 2 <= n < 2^32,
// j < n.
std::uint32_t rival_of(std::uint32_t bits, std::uint32_t j, std::uint32_t n, const CounterRng& rivals,
                       std::uint64_t element) noexcept;

}  // namespace weld
