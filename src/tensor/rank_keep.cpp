#include "tensor/rank_keep.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "tensor/bitmask.h"
#include "tensor/rank_keep_x86.h"
#include "tensor/select.h"
#include "tensor/vector_clones.h"

namespace weld {
namespace {

// Vector bodies hand a block with a rejected rival draw to the scalar body: this many.
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

// The scalar body of KeepPass (rank_keep_x86.h) over elements [from, to).
void keep_scalar(const KeepPass& pass, std::size_t from, std::size_t to, const CounterRng& rivals,
                 std::uint64_t first) noexcept {
  for (std::size_t j = from; j < to; ++j) {
    const float value = pass.row[j];
    const std::uint32_t key = pass.keys[j];
    bool dropped = false;
    if (key != 0 && pass.u[j] >= pass.lowest) {
      dropped = true;
      if (pass.u[j] < pass.highest) {
        const auto index = static_cast<std::uint32_t>(j);
        const std::uint32_t rival =
            rival_among(pass.bits[j], index, pass.choices, pass.reject_below, rivals, first + j);
        const std::uint32_t rival_key = pass.keys[rival];
        const bool outranks = key > rival_key || (key == rival_key && index > rival);
        dropped = outranks != pass.rising;
      }
    }
    if (dropped) pass.row[j] = 0.0f;
    if (pass.before) {
      const double magnitude = std::abs(static_cast<double>(value));
      pass.before[j % LaneSum::kLanes] += magnitude;
      pass.after[j % LaneSum::kLanes] += dropped ? 0.0 : magnitude;
      if (pass.kept && !dropped && std::bit_cast<std::uint32_t>(value) != 0)
        or_bits(pass.kept, pass.kept_first + j, 1, 1);
    }
  }
}

}  // namespace

std::uint32_t rival_of(std::uint32_t bits, std::uint32_t j, std::uint32_t n, const CounterRng& rivals,
                       std::uint64_t element) noexcept {
  return rival_among(bits, j, n - 1, reject_bound(n - 1), rivals, element);
}

void keep_by_rank(std::span<float> row, std::span<const float> u, RankProbability p, const CounterRng& rivals,
                  std::uint64_t first, std::span<std::uint32_t> work, const KeepTally* tally, x86::Isa isa) noexcept {
  const std::size_t n = row.size();
  if (n == 0) return;
  std::uint32_t* keys = work.data();
  std::uint32_t* bits = keys + n;
  magnitude_keys(row.data(), n, keys);
  const double at_lowest_rank = p.at(0), at_highest_rank = p.at(static_cast<std::uint32_t>(n - 1));
  const bool rising = at_highest_rank >= at_lowest_rank;
  KeepPass pass{keys,
                u.data(),
                bits,
                row.data(),
                static_cast<float>(std::min(at_lowest_rank, at_highest_rank)),
                static_cast<float>(std::max(at_lowest_rank, at_highest_rank)),
                rising,
                static_cast<std::uint32_t>(n - 1),
                0};
  if (n > 1 && pass.lowest < pass.highest) {
    rivals.fill_draw_bits(first, bits, n);
    pass.reject_below = reject_bound(pass.choices);
  } else {
    pass.highest = pass.lowest;  // no band: the draw alone decides (and no rival exists)
  }
  const auto sweep = [&] {
    for (std::size_t j = 0; j < n;) {
      j = x86::keep_vectors(pass, j, n, isa);
      const std::size_t end = std::min(n, j + kScalarBlock);
      keep_scalar(pass, j, end, rivals, first);
      j = end;
    }
  };
  if (!tally) {
    sweep();
    return;
  }
  pass.kept = tally->kept;
  pass.kept_first = first;
  tally->before->add_by(n, [&](double* before) {
    tally->after->add_by(n, [&](double* after) {
      pass.before = before;
      pass.after = after;
      sweep();
    });
  });
}

}  // namespace weld
