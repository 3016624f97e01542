#include "tensor/bitmask.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace weld {
namespace {

std::uint32_t float_bits(float x) noexcept {
  std::uint32_t bits;
  __builtin_memcpy(&bits, &x, sizeof bits);
  return bits;
}

// The byte of bits of v[0, 8): bit k set where v[k] is not +0.
unsigned byte_of_nonzero_scalar(const float* v) noexcept {
  unsigned byte = 0;
  for (unsigned k = 0; k < 8; ++k) byte |= static_cast<unsigned>(float_bits(v[k]) != 0) << k;
  return byte;
}

// v[k] = +0 where bit k of byte is clear, k < 8.
void zero_where_clear_scalar(float* v, unsigned byte) noexcept {
  for (unsigned k = 0; k < 8; ++k) {
    const std::uint32_t value = float_bits(v[k]) & (0u - ((byte >> k) & 1u));
    __builtin_memcpy(&v[k], &value, sizeof value);
  }
}

#if defined(__x86_64__)
// One compare and one movemask for eight elements (the compiler does not find these for the
// loops above).
__attribute__((target("avx2"))) unsigned byte_of_nonzero_avx2(const float* v) noexcept {
  const __m256i values = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v));
  const __m256i zero = _mm256_cmpeq_epi32(values, _mm256_setzero_si256());
  return ~static_cast<unsigned>(_mm256_movemask_ps(_mm256_castsi256_ps(zero))) & 0xffu;
}

__attribute__((target("avx2"))) void zero_where_clear_avx2(float* v, unsigned byte) noexcept {
  const __m256i lane_bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
  const __m256i set = _mm256_cmpeq_epi32(
      _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(byte)), lane_bits), lane_bits);
  _mm256_storeu_ps(v, _mm256_and_ps(_mm256_loadu_ps(v), _mm256_castsi256_ps(set)));
}

bool has_avx2() noexcept {
  static const bool avx2 = __builtin_cpu_supports("avx2");
  return avx2;
}
#else
bool has_avx2() noexcept { return false; }
unsigned byte_of_nonzero_avx2(const float* v) noexcept { return byte_of_nonzero_scalar(v); }
void zero_where_clear_avx2(float* v, unsigned byte) noexcept { zero_where_clear_scalar(v, byte); }
#endif

// Calls whole(j) for each j at which a byte's 8 elements start, single(j) for the elements of
// a partial byte at either end.
template <typename Single, typename Whole>
void by_bytes(std::size_t n, std::uint64_t begin, Single single, Whole whole) {
  std::size_t j = 0;
  for (; j < n && (begin + j) % 8 != 0; ++j) single(j);
  for (; j + 8 <= n; j += 8) whole(j);
  for (; j < n; ++j) single(j);
}

}  // namespace

void set_bits_of_nonzero(std::span<const float> v, std::uint64_t begin, std::uint8_t* bits) noexcept {
  const bool avx2 = has_avx2();
  by_bytes(
      v.size(), begin,
      [&](std::size_t j) {
        const std::uint64_t i = begin + j;
        bits[i / 8] = static_cast<std::uint8_t>(bits[i / 8] | (float_bits(v[j]) != 0) << (i % 8));
      },
      [&](std::size_t j) {
        const unsigned byte = avx2 ? byte_of_nonzero_avx2(&v[j]) : byte_of_nonzero_scalar(&v[j]);
        bits[(begin + j) / 8] = static_cast<std::uint8_t>(bits[(begin + j) / 8] | byte);
      });
}

void zero_where_clear(std::span<float> v, std::uint64_t begin, const std::uint8_t* bits) noexcept {
  const bool avx2 = has_avx2();
  by_bytes(
      v.size(), begin,
      [&](std::size_t j) {
        const std::uint64_t i = begin + j;
        if (((bits[i / 8] >> (i % 8)) & 1u) == 0) v[j] = 0.0f;
      },
      [&](std::size_t j) {
        const unsigned byte = bits[(begin + j) / 8];
        if (avx2) zero_where_clear_avx2(&v[j], byte);
        else zero_where_clear_scalar(&v[j], byte);
      });
}

}  // namespace weld
