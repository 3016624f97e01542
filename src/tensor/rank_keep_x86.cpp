#include "tensor/rank_keep_x86.h"

#include "tensor/bitmask.h"
#include "tensor/x86_intrinsics.h"

namespace weld::x86 {

#if defined(__x86_64__)
namespace {

// Unsigned 32-bit a > b in AVX2, which compares signed only.
__attribute__((target("avx2"))) __m256i greater_unsigned(__m256i a, __m256i b) noexcept {
  const __m256i flip = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  return _mm256_cmpgt_epi32(_mm256_xor_si256(a, flip), _mm256_xor_si256(b, flip));
}

// The bodies take `pass` by value: read through a reference, its fields would be loaded again
// after every store into the row, which might alias its floats.
template <bool kTally>
__attribute__((target("avx2"))) std::size_t keep_avx2(const KeepPass pass, std::size_t from, std::size_t n) noexcept {
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), one = _mm256_set1_epi32(1);
  const __m256i choices = _mm256_set1_epi32(static_cast<int>(pass.choices));
  const __m256i reject_below = _mm256_set1_epi32(static_cast<int>(pass.reject_below));
  const __m256 lowest = _mm256_set1_ps(pass.lowest), highest = _mm256_set1_ps(pass.highest);
  const __m256d magnitude_bits = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffff));
  // The tally's lanes 0-3 and 4-7.
  __m256d before_low{}, before_high{}, after_low{}, after_high{};
  if constexpr (kTally) {
    before_low = _mm256_loadu_pd(pass.before), before_high = _mm256_loadu_pd(pass.before + 4);
    after_low = _mm256_loadu_pd(pass.after), after_high = _mm256_loadu_pd(pass.after + 4);
  }
  std::size_t j = from;
  for (; j + 8 <= n; j += 8) {
    const __m256i key = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pass.keys + j));
    const __m256i nonzero = _mm256_xor_si256(_mm256_cmpeq_epi32(key, _mm256_setzero_si256()), _mm256_set1_epi32(-1));
    const __m256 u = _mm256_loadu_ps(pass.u + j);
    __m256i dropped = _mm256_and_si256(nonzero, _mm256_castps_si256(_mm256_cmp_ps(u, highest, _CMP_GE_OQ)));
    const __m256i between = _mm256_andnot_si256(
        dropped, _mm256_and_si256(nonzero, _mm256_castps_si256(_mm256_cmp_ps(u, lowest, _CMP_GE_OQ))));
    if (!_mm256_testz_si256(between, between)) {
      const __m256i bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pass.bits + j));
      const __m256i even = _mm256_mul_epu32(bits, choices);
      const __m256i odd = _mm256_mul_epu32(_mm256_srli_epi64(bits, 32), choices);
      const __m256i rival_draw = _mm256_blend_epi32(_mm256_srli_epi64(even, 32), odd, 0xaa);
      const __m256i low = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
      const __m256i rejected = _mm256_and_si256(between, greater_unsigned(reject_below, low));
      if (!_mm256_testz_si256(rejected, rejected)) break;
      const __m256i index = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(j)), iota);
      // The draw skips the element itself: draws at or above its index move up by one.
      const __m256i below_index = greater_unsigned(index, rival_draw);
      const __m256i rival = _mm256_add_epi32(rival_draw, _mm256_andnot_si256(below_index, one));
      const __m256i rival_key = _mm256_mask_i32gather_epi32(_mm256_setzero_si256(), reinterpret_cast<const int*>(pass.keys),
                                                            rival, between, 4);
      const __m256i outranks = _mm256_or_si256(
          greater_unsigned(key, rival_key),
          _mm256_and_si256(_mm256_cmpeq_epi32(key, rival_key), greater_unsigned(index, rival)));
      const __m256i loses = pass.rising ? _mm256_andnot_si256(outranks, between) : _mm256_and_si256(outranks, between);
      dropped = _mm256_or_si256(dropped, loses);
    }
    const __m256 value = _mm256_loadu_ps(pass.row + j);
    _mm256_storeu_ps(pass.row + j, _mm256_andnot_ps(_mm256_castsi256_ps(dropped), value));
    if constexpr (kTally) {
      const __m256d low = _mm256_and_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(value)), magnitude_bits);
      const __m256d high = _mm256_and_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(value, 1)), magnitude_bits);
      before_low = _mm256_add_pd(before_low, low), before_high = _mm256_add_pd(before_high, high);
      const __m256i zero_bits = _mm256_cmpeq_epi32(_mm256_castps_si256(value), _mm256_setzero_si256());
      const __m256i cleared = _mm256_or_si256(dropped, zero_bits);  // +0 once the test is done
      // A cleared element adds +0, which leaves a lane (never -0) as it was.
      after_low = _mm256_add_pd(
          after_low, _mm256_andnot_pd(_mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(cleared))), low));
      after_high = _mm256_add_pd(
          after_high,
          _mm256_andnot_pd(_mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(cleared, 1))), high));
      const auto kept = static_cast<std::uint32_t>(~_mm256_movemask_ps(_mm256_castsi256_ps(cleared)));
      if (pass.kept) or_bits(pass.kept, pass.kept_first + j, kept, 8);
    }
  }
  if constexpr (kTally) {
    _mm256_storeu_pd(pass.before, before_low), _mm256_storeu_pd(pass.before + 4, before_high);
    _mm256_storeu_pd(pass.after, after_low), _mm256_storeu_pd(pass.after + 4, after_high);
  }
  return j;
}

template <bool kTally>
__attribute__((target("avx512f"))) std::size_t keep_avx512(const KeepPass pass, std::size_t from,
                                                            std::size_t n) noexcept {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i one = _mm512_set1_epi32(1), choices = _mm512_set1_epi32(static_cast<int>(pass.choices));
  const __m512i reject_below = _mm512_set1_epi32(static_cast<int>(pass.reject_below));
  const __m512 lowest = _mm512_set1_ps(pass.lowest), highest = _mm512_set1_ps(pass.highest);
  constexpr __mmask16 kOddLanes = 0xaaaa;
  __m512d before{}, after{};  // the tally's lanes
  if constexpr (kTally) before = _mm512_loadu_pd(pass.before), after = _mm512_loadu_pd(pass.after);
  std::size_t j = from;
  for (; j + 16 <= n; j += 16) {
    const __m512i key = _mm512_loadu_si512(pass.keys + j);
    const __mmask16 nonzero = _mm512_test_epi32_mask(key, key);
    const __m512 u = _mm512_loadu_ps(pass.u + j);
    __mmask16 dropped = _mm512_mask_cmp_ps_mask(nonzero, u, highest, _CMP_GE_OQ);
    const __mmask16 between =
        _mm512_mask_cmp_ps_mask(nonzero & static_cast<__mmask16>(~dropped), u, lowest, _CMP_GE_OQ);
    if (between != 0) {
      const __m512i bits = _mm512_loadu_si512(pass.bits + j);
      const __m512i even = _mm512_mul_epu32(bits, choices);
      const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(bits, 32), choices);
      const __m512i rival_draw = _mm512_mask_blend_epi32(kOddLanes, _mm512_srli_epi64(even, 32), odd);
      const __m512i low = _mm512_mask_blend_epi32(kOddLanes, even, _mm512_slli_epi64(odd, 32));
      if (_mm512_mask_cmplt_epu32_mask(between, low, reject_below) != 0) break;
      const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(j)), iota);
      // The draw skips the element itself: draws at or above its index move up by one.
      const __m512i rival = _mm512_mask_add_epi32(rival_draw, _mm512_cmpge_epu32_mask(rival_draw, index), rival_draw, one);
      const __m512i rival_key = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), between, rival, pass.keys, 4);
      const __mmask16 outranks = _mm512_cmpgt_epu32_mask(key, rival_key) |
                                 (_mm512_cmpeq_epi32_mask(key, rival_key) & _mm512_cmpgt_epu32_mask(index, rival));
      dropped |= between & static_cast<__mmask16>(pass.rising ? ~outranks : outranks);
    }
    if constexpr (kTally) {
      const __m512 value = _mm512_loadu_ps(pass.row + j);
      const __m512d low = _mm512_abs_pd(_mm512_cvtps_pd(_mm512_castps512_ps256(value)));
      const __m512d high =
          _mm512_abs_pd(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(value), 1))));
      before = _mm512_add_pd(_mm512_add_pd(before, low), high);
      const __m512i value_bits = _mm512_castps_si512(value);
      const auto kept = static_cast<__mmask16>(_mm512_test_epi32_mask(value_bits, value_bits) & ~dropped);
      // A dropped element adds +0, which leaves a lane (never -0) as it was.
      after = _mm512_mask_add_pd(after, static_cast<__mmask8>(kept), after, low);
      after = _mm512_mask_add_pd(after, static_cast<__mmask8>(kept >> 8), after, high);
      if (pass.kept) or_bits(pass.kept, pass.kept_first + j, kept, 16);
    }
    _mm512_mask_storeu_ps(pass.row + j, dropped, _mm512_setzero_ps());
  }
  if constexpr (kTally) _mm512_storeu_pd(pass.before, before), _mm512_storeu_pd(pass.after, after);
  return j;
}

}  // namespace

std::size_t keep_vectors(const KeepPass& pass, std::size_t from, std::size_t n, Isa isa) noexcept {
  if (pass.before)
    return isa == Isa::kAvx512 ? keep_avx512<true>(pass, from, n)
           : isa == Isa::kAvx2 ? keep_avx2<true>(pass, from, n)
                               : from;
  return isa == Isa::kAvx512 ? keep_avx512<false>(pass, from, n)
         : isa == Isa::kAvx2 ? keep_avx2<false>(pass, from, n)
                             : from;
}

#else

std::size_t keep_vectors(const KeepPass&, std::size_t from, std::size_t, Isa) noexcept { return from; }

#endif

}  // namespace weld::x86
