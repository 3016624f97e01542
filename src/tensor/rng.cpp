#include "tensor/rng.h"

#include <cmath>
#include <numbers>

namespace weld {
namespace {

using rng_detail::mix;
constexpr double kTwoToMinus24 = 1.0 / 16777216.0;

// CounterRng::uniform over a range; the cast through int32 is exact (24 bits) and vectorises.
inline void fill_uniform_loop(std::uint64_t stream, std::uint64_t first, float* out, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j)
    out[j] = static_cast<float>(static_cast<std::int32_t>(mix(stream ^ mix(first + j)) >> 40)) * (1.0f / 16777216.0f);
}

// CounterRng::draw for whole words: out[2m] and out[2m + 1] from word first_word + m.
inline void fill_draw_words(std::uint64_t stream, std::uint64_t first_word, float* out, std::size_t words) noexcept {
  for (std::size_t m = 0; m < words; ++m) {
    const std::uint64_t word = mix(stream + (first_word + m) * 0x9e3779b97f4a7c15ull);
    out[2 * m] = static_cast<float>(static_cast<std::int32_t>((word & 0xffffffffu) >> 8)) * (1.0f / 16777216.0f);
    out[2 * m + 1] = static_cast<float>(static_cast<std::int32_t>(word >> 40)) * (1.0f / 16777216.0f);
  }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,avx512vl"))) void fill_uniform_avx512(
    std::uint64_t stream, std::uint64_t first, float* out, std::size_t n) noexcept {
  fill_uniform_loop(stream, first, out, n);
}

__attribute__((target("avx512f,avx512dq,avx512vl"))) void fill_draw_words_avx512(
    std::uint64_t stream, std::uint64_t first_word, float* out, std::size_t words) noexcept {
  fill_draw_words(stream, first_word, out, words);
}

bool has_avx512dq() noexcept {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl");
  return has;
}
#endif

}  // namespace

void CounterRng::fill_uniform(std::uint64_t first, float* out, std::size_t n) const noexcept {
#if defined(__x86_64__)
  if (has_avx512dq()) return fill_uniform_avx512(stream_, first, out, n);
#endif
  fill_uniform_loop(stream_, first, out, n);
}

void CounterRng::fill_draws(std::uint64_t first, float* out, std::size_t n) const noexcept {
  std::size_t j = 0;
  if (first % 2 != 0 && n > 0) out[j++] = draw(first);  // the high half of a word
  const std::size_t words = (n - j) / 2;
#if defined(__x86_64__)
  if (has_avx512dq()) fill_draw_words_avx512(stream_, (first + j) / 2, out + j, words);
  else fill_draw_words(stream_, (first + j) / 2, out + j, words);
#else
  fill_draw_words(stream_, (first + j) / 2, out + j, words);
#endif
  j += 2 * words;
  if (j < n) out[j] = draw(first + j);
}

std::uint64_t hash_string(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

CounterRng::CounterRng(std::uint64_t seed, std::string_view key) noexcept
    : stream_(mix(seed ^ mix(hash_string(key)))) {}

float CounterRng::normal(std::uint64_t i) const noexcept {
  // A separate draw from uniform(i), so the two can be used together without correlation.
  const std::uint64_t b = mix(bits(i) ^ 0x5851f42d4c957f2dull);
  const double u1 = static_cast<double>((b >> 40) + 1) * kTwoToMinus24;  // (0, 1]: log is finite
  const double u2 = static_cast<double>(b & 0xffffff) * kTwoToMinus24;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

}  // namespace weld
