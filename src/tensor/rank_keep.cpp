#include "tensor/rank_keep.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "tensor/bitmask.h"
#include "tensor/lanes.h"
#include "tensor/rank_keep_x86.h"
#include "tensor/select.h"
#include "tensor/vector_clones.h"
#include "util/check.h"

namespace weld {
namespace {

// The band sweep's vector body hands a vector with a rejected rival draw to the scalar body.
constexpr std::size_t kScalarBlock = 16;

WELD_VECTOR_CLONES void magnitude_keys(const float* row, std::size_t n, std::uint32_t* keys) noexcept {
  for (std::size_t j = 0; j < n; ++j) keys[j] = magnitude_key(row[j]);
}

// Lemire's bound for a multiply-shift onto `choices` values: 2^32 mod choices.
std::uint32_t reject_bound(std::uint32_t choices) noexcept { return (0u - choices) % choices; }

// rival_of, given its bound.
std::uint32_t rival_among(std::uint32_t bits, std::uint32_t j, std::uint32_t choices, std::uint32_t reject_below,
                          const CounterRng& rivals, std::uint64_t element) noexcept {
  // Redraws take 32 bits of counters far above any element's: element + a * 2^56.
  for (std::uint64_t attempt = 1;; ++attempt) {
    const std::uint64_t product = std::uint64_t{bits} * choices;
    if (static_cast<std::uint32_t>(product) >= reject_below) {
      const auto draw = static_cast<std::uint32_t>(product >> 32);
      return draw + (draw >= j);  // skip j itself
    }
    bits = static_cast<std::uint32_t>(rivals.bits(element + (attempt << 56)) >> 32);
  }
}

// The scalar bodies of the three sweeps (rank_keep_x86.h), over [from, to).
void settle_scalar(const KeepPass& pass, std::size_t from, std::size_t to, std::uint32_t* band,
                   std::size_t& count) noexcept {
  for (std::size_t j = from; j < to; ++j) {
    if (pass.keys[j] == 0 || pass.u[j] < pass.lowest) continue;
    if (pass.u[j] >= pass.highest) pass.row[j] = 0.0f;
    else band[count++] = static_cast<std::uint32_t>(j);
  }
}

void band_scalar(const KeepPass& pass, const std::uint32_t* band, const std::uint32_t* bits, std::size_t from,
                 std::size_t to, const CounterRng& rivals, std::uint64_t first) noexcept {
  for (std::size_t e = from; e < to; ++e) {
    const std::uint32_t j = band[e];
    const std::uint32_t rival = rival_among(bits[e], j, pass.choices, pass.reject_below, rivals, first + j);
    const std::uint32_t key = pass.keys[j], rival_key = pass.keys[rival];
    const bool outranks = key > rival_key || (key == rival_key && j > rival);
    if (outranks != pass.rising) pass.row[j] = 0.0f;
  }
}

void tally_scalar(const KeepPass& pass, const KeepTallyLanes& tally, std::size_t from, std::size_t to) noexcept {
  for (std::size_t j = from; j < to; ++j) {
    const auto magnitude = static_cast<double>(std::bit_cast<float>(pass.keys[j]));  // |row[j]| as it came
    const bool kept = std::bit_cast<std::uint32_t>(pass.row[j]) != 0;
    tally.before[j % LaneSum::kLanes] += magnitude;
    tally.after[j % LaneSum::kLanes] += kept ? magnitude : 0.0;
    if (tally.kept && kept) or_bits(tally.kept, tally.kept_first + j, 1, 1);
  }
}

}  // namespace

std::uint32_t rival_of(std::uint32_t bits, std::uint32_t j, std::uint32_t n, const CounterRng& rivals,
                       std::uint64_t element) noexcept {
  return rival_among(bits, j, n - 1, reject_bound(n - 1), rivals, element);
}

namespace {

// Where keep_by_rank's work buffers lie: the keys, the band and its rivals' bits.
struct KeepWork {
  std::uint32_t* keys;
  std::uint32_t* band;
  std::uint32_t* band_bits;
};

KeepWork keep_work(std::span<std::uint32_t> work, std::size_t n) noexcept {
  return {work.data(), work.data() + n, work.data() + 2 * n + kLaneWidth};
}

// The pass over a row of n elements with keys `keys`, whose draws the first sweep reads from u
// (null where they are drawn in registers).
KeepPass keep_pass(std::span<float> row, const std::uint32_t* keys, const float* u, RankProbability p) noexcept {
  const std::size_t n = row.size();
  const double at_lowest_rank = p.at(0), at_highest_rank = p.at(static_cast<std::uint32_t>(n - 1));
  KeepPass pass{keys,
                u,
                row.data(),
                static_cast<float>(std::min(at_lowest_rank, at_highest_rank)),
                static_cast<float>(std::max(at_lowest_rank, at_highest_rank)),
                at_highest_rank >= at_lowest_rank,
                static_cast<std::uint32_t>(n - 1),
                0};
  if (n > 1 && pass.lowest < pass.highest) pass.reject_below = reject_bound(pass.choices);
  else pass.highest = pass.lowest;  // no band: the draw alone decides (and no rival exists)
  return pass;
}

// The sweeps after the first: the `count` elements of the band against their rivals, then the
// tally.
void settle_band_and_tally(const KeepPass& pass, const KeepWork& w, std::size_t count, const CounterRng& rivals,
                           std::uint64_t first, const KeepTally* tally, x86::Isa isa) noexcept {
  const std::size_t n = static_cast<std::size_t>(pass.choices) + 1;
  if (count > 0) rivals.fill_draw_bits_at(first, w.band, count, w.band_bits);
  std::size_t dropped = 0;  // the band's losers the vector body listed, at the band's start
  for (std::size_t e = 0; e < count;) {
    e = x86::settle_band(pass, w.band, w.band_bits, e, count, dropped, isa);
    const std::size_t end = std::min(count, e + kScalarBlock);
    band_scalar(pass, w.band, w.band_bits, e, end, rivals, first);
    e = end;
  }
  for (std::size_t k = 0; k < dropped; ++k) pass.row[w.band[k]] = 0.0f;
  if (!tally) return;
  tally->before->add_by(n, [&](double* before) {
    tally->after->add_by(n, [&](double* after) {
      const KeepTallyLanes lanes{before, after, tally->kept, first};
      tally_scalar(pass, lanes, x86::tally_kept(pass, lanes, 0, n, isa), n);
    });
  });
}

}  // namespace

void keep_by_rank(std::span<float> row, std::span<const float> u, RankProbability p, const CounterRng& rivals,
                  std::uint64_t first, std::span<std::uint32_t> work, const KeepTally* tally, x86::Isa isa) noexcept {
  const std::size_t n = row.size();
  if (n == 0) return;
  const KeepWork w = keep_work(work, n);
  magnitude_keys(row.data(), n, w.keys);
  const KeepPass pass = keep_pass(row, w.keys, u.data(), p);
  std::size_t count = 0;
  settle_scalar(pass, x86::settle_by_draws(pass, 0, n, w.band, count, isa), n, w.band, count);
  settle_band_and_tally(pass, w, count, rivals, first, tally, isa);
}

void keep_by_rank_lanes(const std::byte* x, const std::byte* b, DType dtype, std::span<float> row, RankProbability p,
                        const CounterRng& draws, const CounterRng& rivals, std::uint64_t first,
                        std::span<std::uint32_t> work, const KeepTally& tally) noexcept {
  const std::size_t n = row.size();
  WELD_CHECK(lanes_are_fused());
  if (n == 0) return;
  const KeepWork w = keep_work(work, n);
  const KeepPass pass = keep_pass(row, w.keys, nullptr, p);
  std::size_t count = 0;
  x86::settle_lanes(x, b, dtype, draws, first, n, pass.lowest, pass.highest, row.data(), w.keys, w.band, count);
  settle_band_and_tally(pass, w, count, rivals, first, &tally, x86::detected_isa());
}

}  // namespace weld
