#include "tensor/masked_delta.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "tensor/convert.h"
#include "tensor/lanes.h"
#include "tensor/select.h"
#include "tensor/x86_intrinsics.h"

namespace weld {
namespace {

bool is_plus_zero(float v) noexcept {
  std::uint32_t bits;
  __builtin_memcpy(&bits, &v, sizeof bits);
  return bits == 0;
}

bool bit_set(const std::uint8_t* bits, std::uint64_t i) noexcept { return ((bits[i / 8] >> (i % 8)) & 1u) != 0; }

// The reference bodies, over elements [first, last) of the call.
void random_keep_l1_scalar(const float* x, const float* b, const float* u, float keep, std::uint64_t begin,
                           std::size_t first, std::size_t last, std::uint8_t* bits, LaneSum& before,
                           LaneSum& after) noexcept {
  before.add(last - first, [&](std::size_t k) { return std::abs(static_cast<double>(x[first + k] - b[first + k])); });
  after.add(last - first, [&](std::size_t k) {
    const std::size_t j = first + k;
    return u[j] < keep ? std::abs(static_cast<double>(x[j] - b[j])) : 0.0;
  });
  for (std::size_t j = first; bits && j < last; ++j) {
    const std::uint64_t i = begin + j;
    if (u[j] < keep && !is_plus_zero(x[j] - b[j])) bits[i / 8] = static_cast<std::uint8_t>(bits[i / 8] | 1u << (i % 8));
  }
}

void masked_weighted_delta_scalar(const float* x, const float* b, const std::uint8_t* bits, std::uint64_t begin,
                                  std::optional<float> scale, float weight, float* out, Into into,
                                  std::size_t first, std::size_t last) noexcept {
  for (std::size_t j = first; j < last; ++j) {
    float m = bits && !bit_set(bits, begin + j) ? 0.0f : x[j] - b[j];
    if (scale) m *= *scale;
    out[j] = into == Into::kAdd ? out[j] + m * weight : m * weight;
  }
}

#if defined(__x86_64__)
// The L1 terms of 16 elements of d with the kept ones in `kept`, to the eight double lanes in
// element order (the first eight, then the next eight), as LaneSum adds them, and with kBits
// their bits (two whole bytes).
template <bool kBits = true>
__attribute__((target("avx512f,avx512bw"), always_inline)) inline void keep_l1_block(
    __m512i d, __mmask16 kept, __m512d& before, __m512d& after, std::uint8_t* bits) noexcept {
  const __m512 abs_d = _mm512_castsi512_ps(_mm512_and_si512(d, _mm512_set1_epi32(0x7fffffff)));
  // The kept terms are the converted ones masked (a dropped term is +0 either way): two
  // conversions per block, not four.
  const __m512d low = _mm512_cvtps_pd(_mm512_castps512_ps256(abs_d));
  const __m512d high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(abs_d), 1)));
  before = _mm512_add_pd(before, low);
  before = _mm512_add_pd(before, high);
  after = _mm512_add_pd(after, _mm512_maskz_mov_pd(static_cast<__mmask8>(kept), low));
  after = _mm512_add_pd(after, _mm512_maskz_mov_pd(static_cast<__mmask8>(kept >> 8), high));
  if constexpr (kBits) {
    const auto set = static_cast<std::uint16_t>(_mm512_mask_test_epi32_mask(kept, d, d));
    __builtin_memcpy(bits, &set, sizeof set);
  }
}

// Without kBits the sums only (bits is null).
template <bool kBits>
__attribute__((target("avx512f,avx512bw"))) std::size_t random_keep_l1_avx512(
    const float* x, const float* b, const float* u, float keep, std::size_t n, std::uint8_t* bits,
    double* before_lanes, double* after_lanes) noexcept {
  const __m512 keep_v = _mm512_set1_ps(keep);
  __m512d before = _mm512_loadu_pd(before_lanes), after = _mm512_loadu_pd(after_lanes);
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512i d = _mm512_castps_si512(_mm512_sub_ps(_mm512_loadu_ps(x + j), _mm512_loadu_ps(b + j)));
    const __mmask16 kept = _mm512_cmp_ps_mask(_mm512_loadu_ps(u + j), keep_v, _CMP_LT_OQ);
    keep_l1_block<kBits>(d, kept, before, after, kBits ? bits + j / 8 : nullptr);
  }
  _mm512_storeu_pd(before_lanes, before);
  _mm512_storeu_pd(after_lanes, after);
  return j;
}

// The same from the inputs' bytes, drawing in registers; without kBits the sums only (bits is
// null). REQUIRES: begin is even.
template <DType T, bool kBits>
WELD_TARGET_LANES std::size_t random_keep_l1_fused(const std::byte* x, const std::byte* b, const CounterRng& rng,
                                                   float keep, std::uint64_t begin, std::size_t n,
                                                   std::uint8_t* bits, double* before_lanes,
                                                   double* after_lanes) noexcept {
  constexpr std::size_t size = T == DType::kF32 ? 4 : 2;
  const __m512i last_kept = _mm512_set1_epi32(static_cast<int>(CounterRng::last_kept_bits(keep)));
  __m512d before = _mm512_loadu_pd(before_lanes), after = _mm512_loadu_pd(after_lanes);
  std::size_t j = 0;
  CounterRng::LaneDraws draws(rng, begin);
  for (; j + 16 <= n; j += 16) {
    lanes_detail::prefetch_ahead<T>(x, j);
    lanes_detail::prefetch_ahead<T>(b, j);
    const Lanes d = lanes_detail::load16<T>(x + j * size, 0xffff) - lanes_detail::load16<T>(b + j * size, 0xffff);
    CounterRng::DrawBits halves;
    draws.next_bits(halves);
    const __mmask16 kept = _mm512_cmple_epu32_mask(reinterpret_cast<__m512i>(halves), last_kept);
    keep_l1_block<kBits>(_mm512_castps_si512(d), kept, before, after, kBits ? bits + j / 8 : nullptr);
  }
  _mm512_storeu_pd(before_lanes, before);
  _mm512_storeu_pd(after_lanes, after);
  return j;
}

template <bool kBits>
auto fused_random_keep_l1(DType dtype) noexcept {
  return dtype == DType::kBF16  ? random_keep_l1_fused<DType::kBF16, kBits>
         : dtype == DType::kF16 ? random_keep_l1_fused<DType::kF16, kBits>
                                : random_keep_l1_fused<DType::kF32, kBits>;
}

// 32-bit word j of out = (bits of x[j] - b[j]) & keep ^ flip, from the inputs' bytes.
template <DType T>
WELD_TARGET_LANES void delta_bits_fused(const std::byte* x, const std::byte* b, std::uint32_t keep, std::uint32_t flip,
                                        std::size_t n, std::byte* out) noexcept {
  constexpr std::size_t size = T == DType::kF32 ? 4 : 2;
  const __m512i keep_v = _mm512_set1_epi32(static_cast<int>(keep)), flip_v = _mm512_set1_epi32(static_cast<int>(flip));
  for (std::size_t j = 0; j < n; j += 16) {
    const __mmask16 mask = n - j >= 16 ? __mmask16(0xffff) : x86::tail_mask(n - j);
    lanes_detail::prefetch_ahead<T>(x, j);
    lanes_detail::prefetch_ahead<T>(b, j);
    const Lanes d = lanes_detail::load16<T>(x + j * size, mask) - lanes_detail::load16<T>(b + j * size, mask);
    const __m512i bits = _mm512_xor_si512(_mm512_and_si512(_mm512_castps_si512(d), keep_v), flip_v);
    _mm512_mask_storeu_epi32(out + 4 * j, mask, bits);
  }
}

__attribute__((target("avx512f,avx512bw"))) std::size_t masked_weighted_delta_avx512(
    const float* x, const float* b, const std::uint8_t* bits, std::optional<float> scale, float weight, float* out,
    Into into, std::size_t n) noexcept {
  const __m512 weight_v = _mm512_set1_ps(weight);
  const __m512 scale_v = _mm512_set1_ps(scale.value_or(1.0f));
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    __m512 m = _mm512_sub_ps(_mm512_loadu_ps(x + j), _mm512_loadu_ps(b + j));
    if (bits) {
      std::uint16_t set;
      __builtin_memcpy(&set, bits + j / 8, sizeof set);
      m = _mm512_maskz_mov_ps(set, m);
    }
    if (scale) m = _mm512_mul_ps(m, scale_v);
    const __m512 t = _mm512_mul_ps(m, weight_v);
    _mm512_storeu_ps(out + j, into == Into::kAdd ? _mm512_add_ps(_mm512_loadu_ps(out + j), t) : t);
  }
  return j;
}

// The same with eight elements a step: one byte of bits, and the eight lanes as two halves.
template <bool kBits>
__attribute__((target("avx2"))) std::size_t random_keep_l1_avx2(const float* x, const float* b, const float* u,
                                                                 float keep, std::size_t n, std::uint8_t* bits,
                                                                 double* before_lanes, double* after_lanes) noexcept {
  const __m256 keep_v = _mm256_set1_ps(keep);
  const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256d before_low = _mm256_loadu_pd(before_lanes), before_high = _mm256_loadu_pd(before_lanes + 4);
  __m256d after_low = _mm256_loadu_pd(after_lanes), after_high = _mm256_loadu_pd(after_lanes + 4);
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(b + j));
    const __m256 kept = _mm256_cmp_ps(_mm256_loadu_ps(u + j), keep_v, _CMP_LT_OQ);
    const __m256 abs_d = _mm256_and_ps(d, magnitude);
    const __m256 abs_kept = _mm256_and_ps(abs_d, kept);
    before_low = _mm256_add_pd(before_low, _mm256_cvtps_pd(_mm256_castps256_ps128(abs_d)));
    before_high = _mm256_add_pd(before_high, _mm256_cvtps_pd(_mm256_extractf128_ps(abs_d, 1)));
    after_low = _mm256_add_pd(after_low, _mm256_cvtps_pd(_mm256_castps256_ps128(abs_kept)));
    after_high = _mm256_add_pd(after_high, _mm256_cvtps_pd(_mm256_extractf128_ps(abs_kept, 1)));
    if constexpr (kBits) {
      const __m256 plus_zero = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_castps_si256(d), _mm256_setzero_si256()));
      bits[j / 8] = static_cast<std::uint8_t>(_mm256_movemask_ps(_mm256_andnot_ps(plus_zero, kept)));
    }
  }
  _mm256_storeu_pd(before_lanes, before_low);
  _mm256_storeu_pd(before_lanes + 4, before_high);
  _mm256_storeu_pd(after_lanes, after_low);
  _mm256_storeu_pd(after_lanes + 4, after_high);
  return j;
}

__attribute__((target("avx2"))) std::size_t masked_weighted_delta_avx2(const float* x, const float* b,
                                                                       const std::uint8_t* bits,
                                                                       std::optional<float> scale, float weight,
                                                                       float* out, Into into, std::size_t n) noexcept {
  const __m256i lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256 weight_v = _mm256_set1_ps(weight);
  const __m256 scale_v = _mm256_set1_ps(scale.value_or(1.0f));
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    __m256 m = _mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(b + j));
    if (bits) {
      const __m256i set = _mm256_cmpeq_epi32(_mm256_and_si256(_mm256_set1_epi32(bits[j / 8]), lane_bits), lane_bits);
      m = _mm256_and_ps(m, _mm256_castsi256_ps(set));
    }
    if (scale) m = _mm256_mul_ps(m, scale_v);
    const __m256 t = _mm256_mul_ps(m, weight_v);
    _mm256_storeu_ps(out + j, into == Into::kAdd ? _mm256_add_ps(_mm256_loadu_ps(out + j), t) : t);
  }
  return j;
}
#endif

// The elements before the first one that starts a byte of bits (at most n).
std::size_t to_byte_start(std::uint64_t begin, std::size_t n) noexcept {
  return std::min<std::size_t>(n, static_cast<std::size_t>((8 - begin % 8) % 8));
}

// Elements [first, last) through the scalar reference, converted and drawn one by one.
void random_keep_l1_converted(const std::byte* x, const std::byte* b, DType dtype, const CounterRng& rng,
                              float keep, std::uint64_t begin, std::size_t first, std::size_t last,
                              std::uint8_t* bits, LaneSum& before, LaneSum& after) noexcept {
  const std::size_t size = dtype_size(dtype);
  float xs[kLaneWidth], bs[kLaneWidth], us[kLaneWidth];
  for (std::size_t at = first; at < last; at += kLaneWidth) {
    const std::size_t m = std::min(kLaneWidth, last - at);
    to_f32(dtype, x + at * size, xs, m);
    to_f32(dtype, b + at * size, bs, m);
    for (std::size_t j = 0; j < m; ++j) us[j] = rng.draw(begin + at + j);
    random_keep_l1_scalar(xs, bs, us, keep, begin + at, 0, m, bits, before, after);
  }
}

// The bits of x - b, as delta_bits_fused, fused or converted.
void delta_bits_lanes(const std::byte* x, const std::byte* b, DType dtype, std::uint32_t keep, std::uint32_t flip,
                      std::size_t n, std::byte* out) noexcept {
#if defined(__x86_64__)
  if (lanes_are_fused()) {
    switch (dtype) {
      case DType::kBF16: return delta_bits_fused<DType::kBF16>(x, b, keep, flip, n, out);
      case DType::kF16: return delta_bits_fused<DType::kF16>(x, b, keep, flip, n, out);
      default: return delta_bits_fused<DType::kF32>(x, b, keep, flip, n, out);
    }
  }
#endif
  const std::size_t size = dtype_size(dtype);
  float xs[kLaneWidth], bs[kLaneWidth];
  for (std::size_t at = 0; at < n; at += kLaneWidth) {
    const std::size_t m = std::min(kLaneWidth, n - at);
    to_f32(dtype, x + at * size, xs, m);
    to_f32(dtype, b + at * size, bs, m);
    for (std::size_t j = 0; j < m; ++j) {
      const std::uint32_t bits = (std::bit_cast<std::uint32_t>(xs[j] - bs[j]) & keep) ^ flip;
      std::memcpy(out + 4 * (at + j), &bits, sizeof bits);
    }
  }
}

}  // namespace

void random_keep_l1(const float* x, const float* b, const float* u, float keep, std::uint64_t begin,
                    std::size_t n, std::uint8_t* bits, LaneSum& before, LaneSum& after, x86::Isa isa) noexcept {
  std::size_t j = to_byte_start(begin, n);
  random_keep_l1_scalar(x, b, u, keep, begin, 0, j, bits, before, after);
#if defined(__x86_64__)
  // A pass that goes through the tensor in order reaches a byte's start at lane 0 of both sums.
  double* before_lanes = before.lanes_at_first();
  double* after_lanes = after.lanes_at_first();
  if (isa != x86::Isa::kScalar && before_lanes && after_lanes) {
    const auto body = isa == x86::Isa::kAvx512 ? (bits ? random_keep_l1_avx512<true> : random_keep_l1_avx512<false>)
                      : bits                    ? random_keep_l1_avx2<true>
                                                : random_keep_l1_avx2<false>;
    j += body(x + j, b + j, u + j, keep, n - j, bits ? bits + (begin + j) / 8 : nullptr, before_lanes, after_lanes);
  }
#else
  (void)isa;
#endif
  random_keep_l1_scalar(x, b, u, keep, begin, j, n, bits, before, after);
}

void random_keep_l1_lanes(const std::byte* x, const std::byte* b, DType dtype, const CounterRng& rng, float keep,
                          std::uint64_t begin, std::size_t n, std::uint8_t* bits, LaneSum& before,
                          LaneSum& after) noexcept {
  std::size_t j = to_byte_start(begin, n);
  random_keep_l1_converted(x, b, dtype, rng, keep, begin, 0, j, bits, before, after);
#if defined(__x86_64__)
  // As random_keep_l1: at a byte's start the sums are at lane 0, and the counter is even.
  double* before_lanes = before.lanes_at_first();
  double* after_lanes = after.lanes_at_first();
  if (before_lanes && after_lanes && lanes_are_fused()) {
    const std::size_t size = dtype_size(dtype);
    const auto body = bits ? fused_random_keep_l1<true>(dtype) : fused_random_keep_l1<false>(dtype);
    j += body(x + j * size, b + j * size, rng, keep, begin + j, n - j, bits ? bits + (begin + j) / 8 : nullptr,
              before_lanes, after_lanes);
  }
#endif
  random_keep_l1_converted(x, b, dtype, rng, keep, begin, j, n, bits, before, after);
}

void delta_keys_lanes(const std::byte* x, const std::byte* b, DType dtype, std::uint32_t flip, std::size_t n,
                      std::uint32_t* keys) noexcept {
  delta_bits_lanes(x, b, dtype, 0x7fffffffu, flip, n, reinterpret_cast<std::byte*>(keys));  // magnitude_key ^ flip
}

void delta_lanes(const std::byte* x, const std::byte* b, DType dtype, std::size_t n, float* d) noexcept {
  delta_bits_lanes(x, b, dtype, 0xffffffffu, 0, n, reinterpret_cast<std::byte*>(d));
}

void masked_weighted_delta(const float* x, const float* b, const std::uint8_t* bits, std::uint64_t begin,
                           std::optional<float> scale, float weight, float* out, std::size_t n, Into into,
                           x86::Isa isa) noexcept {
  std::size_t j = to_byte_start(begin, n);
  masked_weighted_delta_scalar(x, b, bits, begin, scale, weight, out, into, 0, j);
#if defined(__x86_64__)
  if (isa != x86::Isa::kScalar) {
    const auto body = isa == x86::Isa::kAvx512 ? masked_weighted_delta_avx512 : masked_weighted_delta_avx2;
    j += body(x + j, b + j, bits ? bits + (begin + j) / 8 : nullptr, scale, weight, out + j, into, n - j);
  }
#else
  (void)isa;
#endif
  masked_weighted_delta_scalar(x, b, bits, begin, scale, weight, out, into, j, n);
}

}  // namespace weld
