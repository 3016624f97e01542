// Fused element kernels: an element-wise merge written once over Lanes (16 floats, a GCC
// vector) and run by run_lanes straight from the inputs' bytes into the output's bytes.
//
// The tile path converts each input into an f32 tile, merges the tiles and converts the
// result: three passes through memory, which on the 3-input 1B-shaped linear merge cost
// about twice the CPU time of just reading the inputs. On AVX-512, run_lanes instead loads 16
// values of every input, converts them in registers, applies the kernel and converts and
// stores the result, so that the inputs are read once and nothing else touches memory.
//
// The values are the tile path's, bit for bit: loading converts exactly, storing rounds as
// from_f32 does, and vector arithmetic is lane-wise IEEE arithmetic, as in the tile path
// (-ffp-contract=off: see vector_clones.h). Only which NaN comes out where two meet (its
// sign and payload) may differ: x86 returns the first operand's, and compilers order the
// operands of commutative operations as they please, in the tile path's loops too. Without AVX-512, run_lanes converts 16 values at
// a time with the bulk conversions: the same values, for tests, and no faster than tiles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <utility>

#include "io/dtype.h"
#include "tensor/convert.h"
#include "tensor/x86_blocks.h"

// The fused loops: AVX-512 as for the conversions, and DQ for kernels with 64-bit multiplies
// (random draws). Kernels run only by run_lanes_fused may carry it too.
#if defined(__x86_64__)
#define WELD_TARGET_LANES __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
#else
#define WELD_TARGET_LANES
#endif

namespace weld {

using Lanes = float __attribute__((vector_size(64)));
// The lanes' bits, and what comparisons of Lanes give (all ones where true).
using LaneBits = std::int32_t __attribute__((vector_size(64)));
// The same 16 lanes in double, for kernels that compute in double: convert with
// __builtin_convertvector (exact one way, rounded to nearest the other, as static_cast).
using DoubleLanes = double __attribute__((vector_size(128)));
inline constexpr std::size_t kLaneWidth = 16;

// |x| lane by lane: the sign bit cleared, as std::abs does (NaN stays NaN).
[[gnu::always_inline]] inline void lane_abs(const Lanes& x, Lanes& out) {
  out = reinterpret_cast<Lanes>(reinterpret_cast<LaneBits>(x) & 0x7fffffff);
}
// out = where ? a : b lane by lane, `where` being a comparison's result (clang's C++ has no
// ?: on these vectors).
[[gnu::always_inline]] inline void lane_select(const LaneBits& where, const Lanes& a, const Lanes& b, Lanes& out) {
  out = reinterpret_cast<Lanes>((where & reinterpret_cast<LaneBits>(a)) | (~where & reinterpret_cast<LaneBits>(b)));
}
// Half of DoubleLanes, 8 doubles, and what comparisons of them give: kernels compare doubles
// a half at a time, as GCC 12 lowers comparisons of 16 doubles to scalar code.
using HalfDoubleLanes = double __attribute__((vector_size(64)));
using HalfDoubleBits = std::int64_t __attribute__((vector_size(64)));
[[gnu::always_inline]] inline void lane_select(const HalfDoubleBits& where, const HalfDoubleLanes& a,
                                               const HalfDoubleLanes& b, HalfDoubleLanes& out) {
  out = reinterpret_cast<HalfDoubleLanes>((where & reinterpret_cast<HalfDoubleBits>(a)) |
                                          (~where & reinterpret_cast<HalfDoubleBits>(b)));
}
// The low (half 0) or high 8 lanes of v.
[[gnu::always_inline]] inline void lane_half(const DoubleLanes& v, int half, HalfDoubleLanes& out) {
  out = half == 0 ? __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7)
                  : __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
}
// run_lanes's inputs at most (their 16 values wait on the stack while the kernel runs).
inline constexpr std::size_t kMaxLaneInputs = 16;

// f(std::integral_constant<std::size_t, i>{}) for a run-time i < kCount. A kernel that
// takes which input is which (the base) as a constant keeps its inputs' lanes in registers;
// lanes picked at run time are stored and reloaded (nearswap's merge: 0.38 against 0.32 ms).
// REQUIRES: i < kCount.
template <std::size_t kCount, class F>
void with_constant_index(std::size_t i, F&& f) {
  [&]<std::size_t... k>(std::index_sequence<k...>) {
    (void)((i == k && (f(std::integral_constant<std::size_t, k>{}), true)) || ...);
  }(std::make_index_sequence<kCount>{});
}

// n values of every input and room for n in the output, all of one dtype (BF16, F16 or F32).
struct LaneSpan {
  std::span<const std::byte* const> inputs;
  std::byte* out;
  std::size_t n;
  DType dtype;
};

// Whether run_lanes takes its fused path on this machine (AVX-512 F, BW, VL and DQ).
bool lanes_are_fused() noexcept;
// Whether run_lanes takes `dtype`.
bool is_lane_dtype(DType dtype) noexcept;

namespace lanes_detail {

// Kernels that need to know where they are (a mask, a random stream) take the position of
// their first lane in the span.
template <class Kernel>
inline constexpr bool kTakesPosition = std::is_invocable_v<const Kernel&, const Lanes*, std::size_t, Lanes&>;

// A kernel may declare `static constexpr std::size_t kInputs`, its spans' number of inputs,
// so that the loads unroll; 0, or no such member, for any number.
template <class Kernel>
constexpr std::size_t fixed_inputs() noexcept {
  if constexpr (requires { Kernel::kInputs; }) return Kernel::kInputs;
  else return 0;
}
template <class Kernel>
inline constexpr std::size_t kFixedInputs = fixed_inputs<Kernel>();

// The portable path: up to 16 values of each input through the bulk conversions.
template <class Kernel>
void run_converted(const LaneSpan& s, const Kernel& kernel) noexcept {
  const std::size_t size = dtype_size(s.dtype);
  Lanes x[kMaxLaneInputs];
  for (std::size_t at = 0; at < s.n; at += kLaneWidth) {
    const std::size_t m = std::min(kLaneWidth, s.n - at);
    float values[kLaneWidth] = {};
    for (std::size_t i = 0; i < s.inputs.size(); ++i) {
      to_f32(s.dtype, s.inputs[i] + at * size, values, m);
      std::memcpy(&x[i], values, sizeof values);
    }
    Lanes result;
    if constexpr (kTakesPosition<Kernel>) kernel(static_cast<const Lanes*>(x), at, result);
    else kernel(static_cast<const Lanes*>(x), result);
    std::memcpy(values, &result, sizeof values);
    from_f32(s.dtype, values, s.out + at * size, m);
  }
}

#if defined(__x86_64__)


template <DType T>
WELD_TARGET_AVX512 inline Lanes load16(const std::byte* p, __mmask16 mask) noexcept {
  if constexpr (T == DType::kBF16) {
    return x86::bf16_block_to_f32(_mm256_maskz_loadu_epi16(mask, p));
  } else if constexpr (T == DType::kF16) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, p));
  } else {
    return _mm512_maskz_loadu_ps(mask, p);
  }
}

// Asks for the cache line kPrefetchBytes past value `at` of p, once per line (at a multiple
// of 16).
template <DType T>
[[gnu::always_inline]] inline void prefetch_ahead(const std::byte* p, std::size_t at) noexcept {
  x86::prefetch_ahead(p, at * (T == DType::kF32 ? 4 : 2));
}

template <DType T>
WELD_TARGET_AVX512 inline void store16(std::byte* p, Lanes v, __mmask16 mask) noexcept {
  if constexpr (T == DType::kBF16) {
    _mm256_mask_storeu_epi16(p, mask, x86::f32_block_to_bf16(_mm512_castps_si512(v)));
  } else if constexpr (T == DType::kF16) {
    _mm256_mask_storeu_epi16(p, mask, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  } else {
    _mm512_mask_storeu_ps(p, mask, v);
  }
}

// One step of run_fused: 16 values of every input at `at`, under `mask`.
template <DType T, class Kernel>
[[gnu::always_inline]] WELD_TARGET_LANES inline void fused_step(const std::byte* const* in, std::size_t k,
                                                                 std::byte* out, std::size_t at, __mmask16 mask,
                                                                 const Kernel& kernel) noexcept {
  constexpr std::size_t size = T == DType::kF32 ? 4 : 2;
  Lanes x[kMaxLaneInputs];
  Lanes result;
  for (std::size_t i = 0; i < k; ++i) {
    prefetch_ahead<T>(in[i], at);
    x[i] = load16<T>(in[i] + at * size, mask);
  }
  if constexpr (kTakesPosition<Kernel>) kernel(static_cast<const Lanes*>(x), at, result);
  else kernel(static_cast<const Lanes*>(x), result);
  store16<T>(out + at * size, result, mask);
}

template <DType T, class Kernel>
WELD_TARGET_LANES void run_fused(const LaneSpan& s, const Kernel& shared_kernel) noexcept {
  const std::size_t k = kFixedInputs<Kernel> != 0 ? kFixedInputs<Kernel> : s.inputs.size();
  // Copies of their own: the stores into the output cannot alias them, so the kernel's
  // constants and the input pointers stay in registers rather than being loaded again after
  // every store (in the 22-layer ties merge most of the loop's instructions were such loads
  // and the tests of flags that do not change within a span).
  const Kernel kernel = shared_kernel;
  const std::byte* in[kMaxLaneInputs];
  for (std::size_t i = 0; i < k; ++i) in[i] = s.inputs[i];
  std::byte* const out = s.out;
  const std::size_t n = s.n;
  // Whole blocks under a full mask, then the tail, whose masked-off lanes are neither read
  // nor written.
  std::size_t at = 0;
  for (; n - at >= kLaneWidth; at += kLaneWidth) fused_step<T>(in, k, out, at, __mmask16(0xffff), kernel);
  if (at < n) fused_step<T>(in, k, out, at, x86::tail_mask(n - at), kernel);
}

#endif

}  // namespace lanes_detail

// out = kernel(x) for every 16 values, where x[i] holds input i's and kernel is a callable
// `void (const Lanes* x, Lanes& out)`, or `void (const Lanes* x, std::size_t at, Lanes& out)`
// for one that needs the span's index `at` of lane 0 (declare it [[gnu::always_inline]], so that it is
// compiled into the AVX-512 loop; it returns through `out` because a vector returned by value
// changes the ABI between targets). Lanes past the end of a tail hold zeros or garbage and are not stored.
// REQUIRES: is_lane_dtype(s.dtype), s.inputs.size() <= kMaxLaneInputs, and equal to the
// kernel's kInputs where it declares one.
template <class Kernel>
void run_lanes(const LaneSpan& s, const Kernel& kernel) noexcept {
#if defined(__x86_64__)
  if (lanes_are_fused()) {
    switch (s.dtype) {
      case DType::kBF16: return lanes_detail::run_fused<DType::kBF16>(s, kernel);
      case DType::kF16: return lanes_detail::run_fused<DType::kF16>(s, kernel);
      default: return lanes_detail::run_fused<DType::kF32>(s, kernel);
    }
  }
#endif
  lanes_detail::run_converted(s, kernel);
}

// run_lanes where it is fused, for kernels compiled for AVX-512 themselves (WELD_TARGET_LANES:
// their comparisons then stay vector code); false, having done nothing, elsewhere.
template <class Kernel>
bool run_lanes_fused(const LaneSpan& s, const Kernel& kernel) noexcept {
#if defined(__x86_64__)
  if (!lanes_are_fused()) return false;
  switch (s.dtype) {
    case DType::kBF16: lanes_detail::run_fused<DType::kBF16>(s, kernel); break;
    case DType::kF16: lanes_detail::run_fused<DType::kF16>(s, kernel); break;
    default: lanes_detail::run_fused<DType::kF32>(s, kernel);
  }
  return true;
#else
  (void)s, (void)kernel;
  return false;
#endif
}

}  // namespace weld
