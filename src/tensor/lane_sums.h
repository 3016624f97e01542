// LaneSums over the inputs' own bytes: a statistics pass (a norm, a Gram matrix, the energy
// of a task vector) written once as a kernel that gives the terms of 16 elements, and run
// straight from the mapped inputs (tensor/lanes.h) instead of over f32 tiles.
//
// The sums are those of LaneSum::add over the same terms, to the bit: term p of a sum goes to
// lane p mod 8, so on the fused path the low 8 terms of a block of 16 are added to the lanes,
// then the high 8. Where the sums are not at lane 0, past the last whole block and on
// machines without fused lanes, 16 values at a time are converted and added term by term.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>

#include "tensor/lane_sum.h"
#include "tensor/lanes.h"

namespace weld {
namespace lane_sums_detail {

// Up to 16 values of each input from `at` on, converted (zeros past m), and their terms added.
template <std::size_t kInputs, std::size_t kSums, class Terms>
void add_converted(const LaneSpan& s, std::size_t at, std::array<LaneSum*, kSums> sums, const Terms& terms) noexcept {
  const std::size_t size = dtype_size(s.dtype), m = std::min(kLaneWidth, s.n - at);
  Lanes x[kInputs];
  for (std::size_t i = 0; i < kInputs; ++i) {
    float values[kLaneWidth] = {};
    to_f32(s.dtype, s.inputs[i] + at * size, values, m);
    std::memcpy(&x[i], values, sizeof values);
  }
  DoubleLanes t[kSums];
  terms(static_cast<const Lanes*>(x), t);
  for (std::size_t k = 0; k < kSums; ++k) sums[k]->add(m, [&](std::size_t j) { return t[k][j]; });
}

#if defined(__x86_64__)

// Whole blocks of 16 from the start of s; returns how many elements it took. REQUIRES: every
// sum at lane 0.
template <DType T, std::size_t kInputs, std::size_t kSums, class Terms>
WELD_TARGET_LANES std::size_t add_fused(const LaneSpan& s, std::array<LaneSum*, kSums> sums,
                                        const Terms& terms) noexcept {
  constexpr std::size_t size = T == DType::kF32 ? 4 : 2;
  HalfDoubleLanes lanes[kSums];  // a LaneSum's 8 lanes
  for (std::size_t k = 0; k < kSums; ++k) std::memcpy(&lanes[k], sums[k]->lanes_at_first(), sizeof lanes[k]);
  Lanes x[kInputs];
  DoubleLanes t[kSums];
  std::size_t at = 0;
  for (; at + kLaneWidth <= s.n; at += kLaneWidth) {
    for (std::size_t i = 0; i < kInputs; ++i) {
      lanes_detail::prefetch_ahead<T>(s.inputs[i], at);
      x[i] = lanes_detail::load16<T>(s.inputs[i] + at * size, 0xffff);
    }
    terms(static_cast<const Lanes*>(x), t);
    for (std::size_t k = 0; k < kSums; ++k)
      for (int half = 0; half < 2; ++half) {
        HalfDoubleLanes terms_of_half;
        lane_half(t[k], half, terms_of_half);
        lanes[k] += terms_of_half;
      }
  }
  for (std::size_t k = 0; k < kSums; ++k) std::memcpy(sums[k]->lanes_at_first(), &lanes[k], sizeof lanes[k]);
  return at;
}

#endif

}  // namespace lane_sums_detail

// Adds terms of the elements of s (s.out unused) to the sums, as their next s.n terms: terms
// is a callable `void (const Lanes* x, DoubleLanes* t)` that sets t[k], lane by lane, to the
// term of sum k for the 16 values x[i] of each input. It also runs on the converted path, so
// it carries no target attribute: declare it [[gnu::always_inline]] and keep comparisons out
// of it (GCC 12 turns those into scalar code when it inlines them into the fused loop). The
// input count is a template argument, so that the values stay in registers.
// REQUIRES: is_lane_dtype(s.dtype), s.inputs.size() == kInputs.
template <std::size_t kInputs, std::size_t kSums, class Terms>
void add_lane_sums(const LaneSpan& s, std::array<LaneSum*, kSums> sums, const Terms& terms) noexcept {
  std::size_t at = 0;
#if defined(__x86_64__)
  bool at_first = true;
  for (LaneSum* sum : sums) at_first = at_first && sum->lanes_at_first() != nullptr;
  if (at_first && lanes_are_fused()) {
    switch (s.dtype) {
      case DType::kBF16: at = lane_sums_detail::add_fused<DType::kBF16, kInputs>(s, sums, terms); break;
      case DType::kF16: at = lane_sums_detail::add_fused<DType::kF16, kInputs>(s, sums, terms); break;
      default: at = lane_sums_detail::add_fused<DType::kF32, kInputs>(s, sums, terms);
    }
  }
#endif
  for (; at < s.n; at += kLaneWidth) lane_sums_detail::add_converted<kInputs>(s, at, sums, terms);
}

}  // namespace weld
