#include "tensor/convert_x86.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "tensor/x86_blocks.h"

namespace weld::x86 {

#if defined(__x86_64__)
namespace {

__attribute__((target("avx2"))) std::size_t bf16_to_f32_avx2(const std::byte* in, float* out,
                                                             std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    prefetch_ahead(in, 2 * i);
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i));
    const __m256i w = _mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16);
    _mm256_storeu_ps(out + i, _mm256_castsi256_ps(w));
  }
  return i;
}

// Round to nearest even by adding 0x7fff + lsb, except NaN, which is made quiet instead.
__attribute__((target("avx2"))) std::size_t f32_to_bf16_avx2(const float* in, std::byte* out,
                                                             std::size_t n) noexcept {
  const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
  const __m256i infinity = _mm256_set1_epi32(0x7f800000);
  const __m256i bias = _mm256_set1_epi32(0x7fff);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i quiet = _mm256_set1_epi32(0x00400000);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i halves[2];
    for (int k = 0; k < 2; ++k) {
      const __m256i b = _mm256_castps_si256(_mm256_loadu_ps(in + i + 8 * k));
      const __m256i is_nan = _mm256_cmpgt_epi32(_mm256_and_si256(b, abs_mask), infinity);
      const __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(b, 16), one);
      const __m256i rounded = _mm256_add_epi32(b, _mm256_add_epi32(bias, lsb));
      const __m256i chosen = _mm256_blendv_epi8(rounded, _mm256_or_si256(b, quiet), is_nan);
      halves[k] = _mm256_srli_epi32(chosen, 16);
    }
    // packus works within 128-bit lanes: reorder the 64-bit blocks afterwards.
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(halves[0], halves[1]), 0xd8);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i), packed);
  }
  return i;
}

__attribute__((target("avx2,f16c"))) std::size_t f16_to_f32_f16c(const std::byte* in, float* out,
                                                                 std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    prefetch_ahead(in, 2 * i);
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i))));
  }
  return i;
}

__attribute__((target("avx2,f16c"))) std::size_t f32_to_f16_f16c(const float* in, std::byte* out,
                                                                 std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(in + i), _MM_FROUND_TO_NEAREST_INT));
  return i;
}

// AVX-512 bodies: 16 elements a step, and the tail of fewer than 16 under a mask, so they
// convert all n. Masked-off lanes are neither read nor written (no fault past the end).
WELD_TARGET_AVX512 std::size_t bf16_to_f32_avx512(const std::byte* in, float* out,
                                                  std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    prefetch_ahead(in, 2 * i);
    _mm512_storeu_ps(
        out + i,
        bf16_block_to_f32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 2 * i))));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(out + i, m, bf16_block_to_f32(_mm256_maskz_loadu_epi16(m, in + 2 * i)));
  }
  return n;
}

WELD_TARGET_AVX512 std::size_t f32_to_bf16_avx512(const float* in, std::byte* out,
                                                  std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * i),
                        f32_block_to_bf16(_mm512_loadu_si512(in + i)));
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm256_mask_storeu_epi16(out + 2 * i, m,
                             f32_block_to_bf16(_mm512_maskz_loadu_epi32(m, in + i)));
  }
  return n;
}

WELD_TARGET_AVX512 std::size_t f16_to_f32_avx512(const std::byte* in, float* out,
                                                 std::size_t n) noexcept {
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    prefetch_ahead(in, 2 * i);
    _mm512_storeu_ps(
        out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 2 * i))));
  }
  if (i < n) {
    const __mmask16 m = tail_mask(n - i);
    _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, in + 2 * i)));
  }
  return n;
}

// clang's __builtin_cpu_supports does not know "f16c": ask CPUID leaf 1 directly.
bool has_f16c() noexcept {
  unsigned eax, ebx, ecx, edx;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
}

// __builtin_cpu_supports also checks that the OS saves the wider registers.
Isa detect() noexcept {
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl"))
    return Isa::kAvx512;
  return __builtin_cpu_supports("avx2") && has_f16c() ? Isa::kAvx2 : Isa::kScalar;
}

}  // namespace

Isa detected_isa() noexcept {
  static const Isa isa = detect();
  return isa;
}

std::size_t bf16_to_f32(const std::byte* in, float* out, std::size_t n, Isa isa) noexcept {
  return isa == Isa::kAvx512 ? bf16_to_f32_avx512(in, out, n)
         : isa == Isa::kAvx2 ? bf16_to_f32_avx2(in, out, n)
                             : 0;
}
std::size_t f32_to_bf16(const float* in, std::byte* out, std::size_t n, Isa isa) noexcept {
  return isa == Isa::kAvx512 ? f32_to_bf16_avx512(in, out, n)
         : isa == Isa::kAvx2 ? f32_to_bf16_avx2(in, out, n)
                             : 0;
}
std::size_t f16_to_f32(const std::byte* in, float* out, std::size_t n, Isa isa) noexcept {
  return isa == Isa::kAvx512 ? f16_to_f32_avx512(in, out, n)
         : isa == Isa::kAvx2 ? f16_to_f32_f16c(in, out, n)
                             : 0;
}
// F16C even where AVX-512 is available: on Zen 4 the 512-bit VCVTPS2PH ran 20% slower than
// two 256-bit ones on in-cache tiles (bench_convert).
std::size_t f32_to_f16(const float* in, std::byte* out, std::size_t n, Isa isa) noexcept {
  return isa >= Isa::kAvx2 ? f32_to_f16_f16c(in, out, n) : 0;
}

#else  // no vector paths on other architectures: the scalar reference does everything

Isa detected_isa() noexcept { return Isa::kScalar; }
std::size_t bf16_to_f32(const std::byte*, float*, std::size_t, Isa) noexcept { return 0; }
std::size_t f32_to_bf16(const float*, std::byte*, std::size_t, Isa) noexcept { return 0; }
std::size_t f16_to_f32(const std::byte*, float*, std::size_t, Isa) noexcept { return 0; }
std::size_t f32_to_f16(const float*, std::byte*, std::size_t, Isa) noexcept { return 0; }

#endif

}  // namespace weld::x86
