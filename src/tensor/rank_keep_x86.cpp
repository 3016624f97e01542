#include "tensor/rank_keep_x86.h"

#include "tensor/bitmask.h"
#include "tensor/lanes.h"
#include "tensor/x86_blocks.h"
#include "tensor/x86_intrinsics.h"
#include "util/check.h"

namespace weld::x86 {

#if defined(__x86_64__)
namespace {

// The bodies take `pass` by value: read through a reference, its fields would be loaded again
// after every store into the row, which might alias its floats.

__attribute__((target("avx512f"))) std::size_t settle_avx512(const KeepPass pass, std::size_t from, std::size_t n,
                                                              std::uint32_t* band, std::size_t& count) noexcept {
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 lowest = _mm512_set1_ps(pass.lowest), highest = _mm512_set1_ps(pass.highest);
  std::size_t listed = count, j = from;
  for (; j + 16 <= n; j += 16) {
    const __m512i key = _mm512_loadu_si512(pass.keys + j);
    const __mmask16 nonzero = _mm512_test_epi32_mask(key, key);
    const __m512 u = _mm512_loadu_ps(pass.u + j);
    const __mmask16 dropped = _mm512_mask_cmp_ps_mask(nonzero, u, highest, _CMP_GE_OQ);
    const __mmask16 between =
        _mm512_mask_cmp_ps_mask(nonzero & static_cast<__mmask16>(~dropped), u, lowest, _CMP_GE_OQ);
    _mm512_mask_storeu_ps(pass.row + j, dropped, _mm512_setzero_ps());
    // Compressed in a register and stored whole: a compressing store is microcode on Zen 4.
    const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(j)), iota);
    _mm512_storeu_si512(band + listed, _mm512_maskz_compress_epi32(between, index));
    listed += static_cast<std::size_t>(__builtin_popcount(between));
  }
  count = listed;
  return j;
}

// settle_avx512 on d = x - b taken from the bytes, with the draws made in registers; every
// vector masked to the row, so there is no scalar tail (lanes past the row are zero: key 0).
template <DType T>
WELD_TARGET_LANES void settle_fused(const std::byte* x, const std::byte* b, const CounterRng& draws,
                                    std::uint64_t first, std::size_t n, float lowest, float highest, float* row,
                                    std::uint32_t* keys, std::uint32_t* band, std::size_t& count) noexcept {
  constexpr std::size_t size = T == DType::kF32 ? 4 : 2;
  const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512 lowest_v = _mm512_set1_ps(lowest), highest_v = _mm512_set1_ps(highest);
  CounterRng::LaneDraws draws_from(draws, first);
  std::size_t listed = count;
  for (std::size_t j = 0; j < n; j += 16) {
    const __mmask16 mask = n - j >= 16 ? __mmask16(0xffff) : tail_mask(n - j);
    lanes_detail::prefetch_ahead<T>(x, j);
    lanes_detail::prefetch_ahead<T>(b, j);
    const Lanes d = lanes_detail::load16<T>(x + j * size, mask) - lanes_detail::load16<T>(b + j * size, mask);
    const __m512i key = _mm512_and_si512(_mm512_castps_si512(d), _mm512_set1_epi32(0x7fffffff));
    _mm512_mask_storeu_epi32(keys + j, mask, key);
    Lanes u;
    if (first % 2 == 0) {
      draws_from.next(u);
    } else {  // the words straddle the lanes (rows of odd length): drawn one at a time
      CounterRng::DrawBits halves;
      draws.draw_bits_lanes(first + j, halves);
      CounterRng::LaneDraws::to_draws(halves, u);
    }
    const __mmask16 nonzero = _mm512_test_epi32_mask(key, key);
    const __mmask16 dropped = _mm512_mask_cmp_ps_mask(nonzero, u, highest_v, _CMP_GE_OQ);
    const __mmask16 between =
        _mm512_mask_cmp_ps_mask(nonzero & static_cast<__mmask16>(~dropped), u, lowest_v, _CMP_GE_OQ);
    _mm512_mask_storeu_ps(row + j, mask, _mm512_maskz_mov_ps(static_cast<__mmask16>(~dropped), d));
    // Compressed in a register and stored whole, as in settle_avx512.
    const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(j)), iota);
    _mm512_storeu_si512(band + listed, _mm512_maskz_compress_epi32(between, index));
    listed += static_cast<std::size_t>(__builtin_popcount(between));
  }
  count = listed;
}

__attribute__((target("avx512f"))) std::size_t band_avx512(const KeepPass pass, std::uint32_t* band,
                                                            const std::uint32_t* rival_bits, std::size_t from,
                                                            std::size_t m, std::size_t& dropped) noexcept {
  const __m512i one = _mm512_set1_epi32(1), choices = _mm512_set1_epi32(static_cast<int>(pass.choices));
  const __m512i reject_below = _mm512_set1_epi32(static_cast<int>(pass.reject_below));
  constexpr __mmask16 kOddLanes = 0xaaaa;
  std::size_t e = from, listed = dropped;
  for (; e + 16 <= m; e += 16) {
    const __m512i index = _mm512_loadu_si512(band + e);
    const __m512i bits = _mm512_loadu_si512(rival_bits + e);
    const __m512i even = _mm512_mul_epu32(bits, choices);
    const __m512i odd = _mm512_mul_epu32(_mm512_srli_epi64(bits, 32), choices);
    const __m512i rival_draw = _mm512_mask_blend_epi32(kOddLanes, _mm512_srli_epi64(even, 32), odd);
    const __m512i low = _mm512_mask_blend_epi32(kOddLanes, even, _mm512_slli_epi64(odd, 32));
    if (_mm512_cmplt_epu32_mask(low, reject_below) != 0) break;
    // The draw skips the element itself: draws at or above its index move up by one.
    const __m512i rival = _mm512_mask_add_epi32(rival_draw, _mm512_cmpge_epu32_mask(rival_draw, index), rival_draw, one);
    const __m512i key = _mm512_i32gather_epi32(index, pass.keys, 4);
    const __m512i rival_key = _mm512_i32gather_epi32(rival, pass.keys, 4);
    const __mmask16 outranks = _mm512_cmpgt_epu32_mask(key, rival_key) |
                               (_mm512_cmpeq_epi32_mask(key, rival_key) & _mm512_cmpgt_epu32_mask(index, rival));
    const auto loses = static_cast<__mmask16>(pass.rising ? ~outranks : outranks);
    // Listed, not scattered (a scatter is microcode on Zen 4): over entries already read, as
    // at most e of them were listed before this vector's.
    _mm512_storeu_si512(band + listed, _mm512_maskz_compress_epi32(loses, index));
    listed += static_cast<std::size_t>(__builtin_popcount(loses));
  }
  dropped = listed;
  return e;
}

__attribute__((target("avx512f"))) std::size_t tally_avx512(const KeepPass pass, const KeepTallyLanes tally,
                                                             std::size_t from, std::size_t n) noexcept {
  __m512d before = _mm512_loadu_pd(tally.before), after = _mm512_loadu_pd(tally.after);
  std::size_t j = from;
  for (; j + 16 <= n; j += 16) {
    // The keys are the magnitudes' bits: |row[j]| as it came, whatever the test left.
    const __m512 magnitude = _mm512_castsi512_ps(_mm512_loadu_si512(pass.keys + j));
    const __m512d low = _mm512_cvtps_pd(_mm512_castps512_ps256(magnitude));
    const __m512d high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(magnitude), 1)));
    before = _mm512_add_pd(_mm512_add_pd(before, low), high);
    const __m512i value_bits = _mm512_loadu_si512(pass.row + j);
    const __mmask16 kept = _mm512_test_epi32_mask(value_bits, value_bits);
    // A dropped element would add +0, which leaves a lane (never -0) as it was.
    after = _mm512_mask_add_pd(after, static_cast<__mmask8>(kept), after, low);
    after = _mm512_mask_add_pd(after, static_cast<__mmask8>(kept >> 8), after, high);
    if (tally.kept) or_16_bits(tally.kept, tally.kept_first + j, kept);
  }
  _mm512_storeu_pd(tally.before, before), _mm512_storeu_pd(tally.after, after);
  return j;
}

__attribute__((target("avx2"))) std::size_t settle_avx2(const KeepPass pass, std::size_t from, std::size_t n,
                                                         std::uint32_t* band, std::size_t& count) noexcept {
  const __m256 lowest = _mm256_set1_ps(pass.lowest), highest = _mm256_set1_ps(pass.highest);
  std::size_t listed = count, j = from;
  for (; j + 8 <= n; j += 8) {
    const __m256i key = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pass.keys + j));
    const __m256 zero_key = _mm256_castsi256_ps(_mm256_cmpeq_epi32(key, _mm256_setzero_si256()));
    const __m256 u = _mm256_loadu_ps(pass.u + j);
    const __m256 dropped = _mm256_andnot_ps(zero_key, _mm256_cmp_ps(u, highest, _CMP_GE_OQ));
    const __m256 value = _mm256_loadu_ps(pass.row + j);
    _mm256_storeu_ps(pass.row + j, _mm256_andnot_ps(dropped, value));
    const __m256 between = _mm256_andnot_ps(_mm256_or_ps(dropped, zero_key), _mm256_cmp_ps(u, lowest, _CMP_GE_OQ));
    for (auto bits = static_cast<unsigned>(_mm256_movemask_ps(between)); bits != 0; bits &= bits - 1)
      band[listed++] = static_cast<std::uint32_t>(j) + static_cast<std::uint32_t>(__builtin_ctz(bits));
  }
  count = listed;
  return j;
}

__attribute__((target("avx2"))) std::size_t tally_avx2(const KeepPass pass, const KeepTallyLanes tally,
                                                        std::size_t from, std::size_t n) noexcept {
  // The tally's lanes 0-3 and 4-7.
  __m256d before_low = _mm256_loadu_pd(tally.before), before_high = _mm256_loadu_pd(tally.before + 4);
  __m256d after_low = _mm256_loadu_pd(tally.after), after_high = _mm256_loadu_pd(tally.after + 4);
  std::size_t j = from;
  for (; j + 8 <= n; j += 8) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(pass.keys + j)));
    const __m256d low = _mm256_cvtps_pd(_mm256_castps256_ps128(magnitude));
    const __m256d high = _mm256_cvtps_pd(_mm256_extractf128_ps(magnitude, 1));
    before_low = _mm256_add_pd(before_low, low), before_high = _mm256_add_pd(before_high, high);
    const __m256i value_bits = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pass.row + j));
    const __m256i cleared = _mm256_cmpeq_epi32(value_bits, _mm256_setzero_si256());  // +0 once tested
    // A cleared element adds +0, which leaves a lane (never -0) as it was.
    after_low = _mm256_add_pd(
        after_low, _mm256_andnot_pd(_mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_castsi256_si128(cleared))), low));
    after_high = _mm256_add_pd(
        after_high,
        _mm256_andnot_pd(_mm256_castsi256_pd(_mm256_cvtepi32_epi64(_mm256_extracti128_si256(cleared, 1))), high));
    const auto kept = static_cast<std::uint32_t>(~_mm256_movemask_ps(_mm256_castsi256_ps(cleared)));
    if (tally.kept) or_bits(tally.kept, tally.kept_first + j, kept, 8);
  }
  _mm256_storeu_pd(tally.before, before_low), _mm256_storeu_pd(tally.before + 4, before_high);
  _mm256_storeu_pd(tally.after, after_low), _mm256_storeu_pd(tally.after + 4, after_high);
  return j;
}

}  // namespace

std::size_t settle_by_draws(const KeepPass& pass, std::size_t from, std::size_t n, std::uint32_t* band,
                            std::size_t& count, Isa isa) noexcept {
  return isa == Isa::kAvx512 ? settle_avx512(pass, from, n, band, count)
         : isa == Isa::kAvx2 ? settle_avx2(pass, from, n, band, count)
                             : from;
}

void settle_lanes(const std::byte* x, const std::byte* b, DType dtype, const CounterRng& draws, std::uint64_t first,
                  std::size_t n, float lowest, float highest, float* row, std::uint32_t* keys, std::uint32_t* band,
                  std::size_t& count) noexcept {
  const auto settle = dtype == DType::kBF16  ? settle_fused<DType::kBF16>
                      : dtype == DType::kF16 ? settle_fused<DType::kF16>
                                             : settle_fused<DType::kF32>;
  settle(x, b, draws, first, n, lowest, highest, row, keys, band, count);
}

// AVX2 machines compare the band (a fifth of the row at DELLA's epsilon 0.1) in the scalar body.
std::size_t settle_band(const KeepPass& pass, std::uint32_t* band, const std::uint32_t* bits, std::size_t from,
                        std::size_t m, std::size_t& dropped, Isa isa) noexcept {
  return isa == Isa::kAvx512 ? band_avx512(pass, band, bits, from, m, dropped) : from;
}

std::size_t tally_kept(const KeepPass& pass, const KeepTallyLanes& tally, std::size_t from, std::size_t n,
                       Isa isa) noexcept {
  return isa == Isa::kAvx512 ? tally_avx512(pass, tally, from, n)
         : isa == Isa::kAvx2 ? tally_avx2(pass, tally, from, n)
                             : from;
}

#else

std::size_t settle_by_draws(const KeepPass&, std::size_t from, std::size_t, std::uint32_t*, std::size_t&,
                            Isa) noexcept {
  return from;
}
std::size_t settle_band(const KeepPass&, std::uint32_t*, const std::uint32_t*, std::size_t from, std::size_t,
                        std::size_t&, Isa) noexcept {
  return from;
}
void settle_lanes(const std::byte*, const std::byte*, DType, const CounterRng&, std::uint64_t, std::size_t, float, float,
                  float*, std::uint32_t*, std::uint32_t*, std::size_t&) noexcept {
  WELD_CHECK(false);  // the fused path is x86's
}
std::size_t tally_kept(const KeepPass&, const KeepTallyLanes&, std::size_t from, std::size_t, Isa) noexcept {
  return from;
}

#endif

}  // namespace weld::x86
