#include "tensor/rank_keep_x86.h"

#include "tensor/x86_intrinsics.h"

namespace weld::x86 {

#if defined(__x86_64__)
namespace {

// The lanes of `between` (a bit each), as unsettled elements from `first` on.
void note_lanes(SettlePass& pass, std::size_t first, unsigned between) noexcept {
  for (; between != 0; between &= between - 1) pass.note(first + static_cast<std::size_t>(__builtin_ctz(between)));
}

__attribute__((target("avx2"))) std::size_t settle_avx2(SettlePass& pass, std::size_t n) noexcept {
  const __m256i zero = _mm256_setzero_si256();
  std::size_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256i bucket = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(pass.buckets + j));
    const __m256 is_zero = _mm256_castsi256_ps(_mm256_cmpeq_epi32(bucket, zero));
    const __m256 low = _mm256_i32gather_ps(pass.thresholds, bucket, 4);
    const __m256 high = _mm256_i32gather_ps(pass.thresholds + 1, bucket, 4);
    const __m256 u = _mm256_loadu_ps(pass.u + j);
    const __m256 dropped = _mm256_andnot_ps(is_zero, _mm256_cmp_ps(u, high, _CMP_GE_OQ));
    const __m256 between = _mm256_andnot_ps(dropped, _mm256_cmp_ps(u, low, _CMP_GE_OQ));
    _mm256_storeu_ps(pass.row + j, _mm256_andnot_ps(dropped, _mm256_loadu_ps(pass.row + j)));
    if (const int lanes = _mm256_movemask_ps(between); lanes != 0) note_lanes(pass, j, static_cast<unsigned>(lanes));
  }
  return j;
}

// Both thresholds of a bucket are neighbours: one 64-bit gather fetches the pair, and eight
// lanes of 64 bits cost about half of sixteen lanes of 32 on Zen 4.
__attribute__((target("avx512f"))) std::size_t settle_avx512(SettlePass& pass, std::size_t n) noexcept {
  const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512i bucket = _mm512_loadu_si512(pass.buckets + j);
    const __mmask16 nonzero = _mm512_test_epi32_mask(bucket, bucket);
    const __m512 first = _mm512_castpd_ps(_mm512_i32gather_pd(_mm512_castsi512_si256(bucket), pass.thresholds, 4));
    const __m512 second = _mm512_castpd_ps(_mm512_i32gather_pd(_mm512_extracti64x4_epi64(bucket, 1), pass.thresholds, 4));
    const __m512 low = _mm512_permutex2var_ps(first, evens, second);
    const __m512 high = _mm512_permutex2var_ps(first, odds, second);
    const __m512 u = _mm512_loadu_ps(pass.u + j);
    const __mmask16 dropped = _mm512_mask_cmp_ps_mask(nonzero, u, high, _CMP_GE_OQ);
    const __mmask16 between = _mm512_cmp_ps_mask(u, low, _CMP_GE_OQ) & static_cast<__mmask16>(~dropped);
    _mm512_mask_storeu_ps(pass.row + j, dropped, _mm512_setzero_ps());
    if (between != 0) note_lanes(pass, j, between);
  }
  return j;
}

}  // namespace

std::size_t settle(SettlePass& pass, std::size_t n, Isa isa) noexcept {
  return isa == Isa::kAvx512 ? settle_avx512(pass, n) : isa == Isa::kAvx2 ? settle_avx2(pass, n) : 0;
}

#else

std::size_t settle(SettlePass&, std::size_t, Isa) noexcept { return 0; }

#endif

}  // namespace weld::x86
