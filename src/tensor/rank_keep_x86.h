// AVX-512 / AVX2 bodies of keep_by_rank's settling pass (tensor/rank_keep.cpp), chosen at run
// time like the conversions: each settles a prefix of whole vectors and returns its length,
// and the scalar body finishes the row with the same comparisons.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "tensor/convert_x86.h"

namespace weld {

// One row's settling pass. A nonzero element j (magnitude key keys[j]) falls in bucket
// b = 1 + min((key - lowest_key) >> shift, last - 1); thresholds[b] is the keep threshold of the lowest
// rank it can have and thresholds[b + 1] one at least that of its highest. It is dropped
// (row[j] zeroed) when u[j] >= thresholds[b + 1], kept when u[j] < thresholds[b], and
// otherwise noted in unsettled (up to `capacity`; count goes on beyond). Zeros (bucket 0,
// thresholds[0] = infinity) are left as they are.
struct SettlePass {
  std::uint32_t bucket(std::uint32_t key) const noexcept {
    return key == 0 ? 0 : 1 + std::min((key - lowest_key) >> shift, last - 1);
  }

  const std::uint32_t* keys;
  const float* u;
  const float* thresholds;
  std::uint32_t lowest_key;
  int shift;
  std::uint32_t last;
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
