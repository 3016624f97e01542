#include "tensor/rng.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <type_traits>

namespace weld {
namespace {

using rng_detail::mix;
constexpr double kTwoToMinus24 = 1.0 / 16777216.0;

// CounterRng::uniform over a range; the cast through int32 is exact (24 bits) and vectorises.
inline void fill_uniform_loop(std::uint64_t stream, std::uint64_t first, float* out, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j)
    out[j] = static_cast<float>(static_cast<std::int32_t>(mix(stream ^ mix(first + j)) >> 40)) * (1.0f / 16777216.0f);
}

// CounterRng::draw (floats) or draw_bits (32-bit halves) for whole words: out[2m] and
// out[2m + 1] from word first_word + m.
template <class T>
inline void fill_draw_words(std::uint64_t stream, std::uint64_t first_word, T* out, std::size_t words) noexcept {
  for (std::size_t m = 0; m < words; ++m) {
    const std::uint64_t word = mix(stream + (first_word + m) * 0x9e3779b97f4a7c15ull);
    const auto low = static_cast<std::uint32_t>(word), high = static_cast<std::uint32_t>(word >> 32);
    if constexpr (std::is_same_v<T, float>) {
      out[2 * m] = static_cast<float>(static_cast<std::int32_t>(low >> 8)) * (1.0f / 16777216.0f);
      out[2 * m + 1] = static_cast<float>(static_cast<std::int32_t>(high >> 8)) * (1.0f / 16777216.0f);
    } else {
      out[2 * m] = low;
      out[2 * m + 1] = high;
    }
  }
}

// CounterRng::draw_bits at counters first + offsets[k].
inline void fill_draw_bits_at_loop(std::uint64_t stream, std::uint64_t first, const std::uint32_t* offsets,
                                   std::size_t n, std::uint32_t* out) noexcept {
  for (std::size_t k = 0; k < n; ++k) {
    const std::uint64_t i = first + offsets[k];
    const std::uint64_t word = mix(stream + (i >> 1) * 0x9e3779b97f4a7c15ull);
    out[k] = static_cast<std::uint32_t>(word >> (32 * (i & 1)));
  }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512dq,avx512vl"))) void fill_draw_bits_at_avx512(
    std::uint64_t stream, std::uint64_t first, const std::uint32_t* offsets, std::size_t n,
    std::uint32_t* out) noexcept {
  fill_draw_bits_at_loop(stream, first, offsets, n, out);
}

__attribute__((target("avx512f,avx512dq,avx512vl"))) void fill_uniform_avx512(
    std::uint64_t stream, std::uint64_t first, float* out, std::size_t n) noexcept {
  fill_uniform_loop(stream, first, out, n);
}

template <class T>
__attribute__((target("avx512f,avx512dq,avx512vl"))) void fill_draw_words_avx512(
    std::uint64_t stream, std::uint64_t first_word, T* out, std::size_t words) noexcept {
  fill_draw_words(stream, first_word, out, words);
}

bool has_avx512dq() noexcept {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl");
  return has;
}
#endif

// fill_draws and fill_draw_bits: a draw at each end that takes half a word, whole words
// between. `one` is draw or draw_bits.
template <class T, class One>
void fill_draw_values(std::uint64_t stream, std::uint64_t first, T* out, std::size_t n, const One& one) noexcept {
  std::size_t j = 0;
  if (first % 2 != 0 && n > 0) out[j++] = one(first);  // the high half of a word
  const std::size_t words = (n - j) / 2;
#if defined(__x86_64__)
  if (has_avx512dq()) fill_draw_words_avx512(stream, (first + j) / 2, out + j, words);
  else fill_draw_words(stream, (first + j) / 2, out + j, words);
#else
  fill_draw_words(stream, (first + j) / 2, out + j, words);
#endif
  j += 2 * words;
  if (j < n) out[j] = one(first + j);
}

}  // namespace

void CounterRng::fill_uniform(std::uint64_t first, float* out, std::size_t n) const noexcept {
#if defined(__x86_64__)
  if (has_avx512dq()) return fill_uniform_avx512(stream_, first, out, n);
#endif
  fill_uniform_loop(stream_, first, out, n);
}

void CounterRng::fill_draws(std::uint64_t first, float* out, std::size_t n) const noexcept {
  fill_draw_values(stream_, first, out, n, [this](std::uint64_t i) { return draw(i); });
}

void CounterRng::fill_draw_bits(std::uint64_t first, std::uint32_t* out, std::size_t n) const noexcept {
  fill_draw_values(stream_, first, out, n, [this](std::uint64_t i) { return draw_bits(i); });
}

void CounterRng::fill_draw_bits_at(std::uint64_t first, const std::uint32_t* offsets, std::size_t n,
                                   std::uint32_t* out) const noexcept {
#if defined(__x86_64__)
  if (has_avx512dq()) return fill_draw_bits_at_avx512(stream_, first, offsets, n, out);
#endif
  fill_draw_bits_at_loop(stream_, first, offsets, n, out);
}

std::uint32_t CounterRng::last_kept_bits(float keep) noexcept {
  // keep * 2^24 is exact in double; draws are below 2^24, so every one is kept from there on.
  const double below = std::min(std::ceil(static_cast<double>(keep) * 16777216.0), 16777216.0);
  return static_cast<std::uint32_t>(static_cast<std::uint64_t>(below) * 256 - 1);
}

CounterRng CounterRng::substream(std::string_view name) const noexcept {
  return CounterRng(mix(stream_ ^ mix(hash_string(name))));
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
