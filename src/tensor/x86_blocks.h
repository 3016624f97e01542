// AVX-512 conversions of one block of 16 values, shared by the bulk conversions
// (convert_x86.cpp) and the fused element kernels (lanes.h). Each gives the bits of the
// scalar reference in convert.h. x86-64 only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tensor/x86_intrinsics.h"

#if defined(__x86_64__)

// F for the 512-bit arithmetic, BW and VL for the masked 16-bit loads and stores of tails.
#define WELD_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace weld::x86 {

// How far ahead of its loads a loop over the inputs' bytes asks for their cache lines. The
// hardware's own prefetchers stop at each 4 KiB page, and the fused loops read two to four
// inputs a few KiB at a time, so they start anew every page or two. In a test program over
// three mapped 2 GB shards of the bench models (page cache warm, one thread, a fresh map each
// time), making TIES's keys of two task vectors 4 Ki elements at a time took 0.52-0.59 s
// with the lines asked for 4 KiB ahead against 0.73-0.76 s without (8 KiB: 0.51-0.59 s,
// 1 KiB did less), and a three-input merge 0.46-0.51 s against 0.54-0.57 s. A request for a
// page not yet mapped is dropped.
inline constexpr std::size_t kPrefetchBytes = 4096;

// Asks for the cache line kPrefetchBytes past byte `offset` of p, once per line (offset a
// multiple of the loop's step, which divides 64). A prefetch never faults, so it may point
// past the input's end: the address is formed as an integer, as a pointer that far past its
// object would be undefined.
[[gnu::always_inline]] inline void prefetch_ahead(const std::byte* p, std::size_t offset) noexcept {
  if (offset % 64 == 0)
    __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + offset + kPrefetchBytes));
}

// The first `remaining` lanes (fewer than 16).
WELD_TARGET_AVX512 inline __mmask16 tail_mask(std::size_t remaining) noexcept {
  return static_cast<__mmask16>((1u << remaining) - 1);
}

WELD_TARGET_AVX512 inline __m512 bf16_block_to_f32(__m256i h) noexcept {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// Round to nearest even by adding 0x7fff + lsb, except NaN, which is made quiet instead.
WELD_TARGET_AVX512 inline __m256i f32_block_to_bf16(__m512i b) noexcept {
  const __mmask16 is_nan = _mm512_cmpgt_epu32_mask(
      _mm512_and_si512(b, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_add_epi32(b, _mm512_add_epi32(_mm512_set1_epi32(0x7fff), lsb));
  const __m512i chosen = _mm512_mask_or_epi32(rounded, is_nan, b, _mm512_set1_epi32(0x00400000));
  return _mm512_cvtepi32_epi16(_mm512_srli_epi32(chosen, 16));
}

}  // namespace weld::x86

#endif
