// AVX-512 / AVX2 bodies of keep_by_rank's settling pass (tensor/rank_keep.cpp), chosen at run
// time like the conversions: each settles a prefix of whole vectors and returns its length,
// and the scalar body finishes the row with the same comparisons.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/convert_x86.h"

namespace weld {

// One row's settling pass. Element j falls in bucket b = buckets[j] (0 for zeros; a smaller
// bucket holds strictly smaller magnitudes); thresholds[b] is the keep threshold of the lowest
// rank it can have and thresholds[b + 1] one at least that of its highest. A nonzero element
// is dropped (row[j] zeroed) when u[j] >= thresholds[b + 1], kept when u[j] < thresholds[b],
// and otherwise noted in unsettled (up to `capacity`; count goes on beyond). Zeros
// (thresholds[0] = infinity) are left as they are.
struct SettlePass {
  const std::uint32_t* buckets;
  const float* u;
  const float* thresholds;
  float* row;
  std::uint32_t* unsettled;
  std::size_t capacity;
  std::size_t count = 0;

  void note(std::size_t j) noexcept {
    if (count < capacity) unsettled[count] = static_cast<std::uint32_t>(j);
    ++count;
  }
};

namespace x86 {

// Settles elements [0, k) for some k <= n (all whole vectors) and returns k.
// REQUIRES: isa <= detected_isa().
std::size_t settle(SettlePass& pass, std::size_t n, Isa isa = detected_isa()) noexcept;

}  // namespace x86
}  // namespace weld
