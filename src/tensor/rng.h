// A counter-based random generator: the value for element i of a stream depends only on
// (seed, stream key, i), never on the order in which elements or tensors are visited, so
// random merges and synthetic models are identical on any thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace weld {

namespace rng_detail {

// The splitmix64 finaliser: a bijection on 64 bits whose output bits each depend on every
// input bit, so consecutive counters give unrelated values.
constexpr std::uint64_t mix(std::uint64_t z) noexcept {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace rng_detail

class CounterRng {
 public:
  // `key` names the stream, e.g. a tensor name plus the model index.
  CounterRng(std::uint64_t seed, std::string_view key) noexcept;

  // 64 random bits for counter i. Two rounds: one round of (stream ^ i) would let streams
  // that differ in a few bits share values at counters that differ in the same bits.
  // Inline: it sits in the innermost loop of random sparsifiers.
  std::uint64_t bits(std::uint64_t i) const noexcept {
    return rng_detail::mix(stream_ ^ rng_detail::mix(i));
  }
  // Uniform in [0, 1), 24 bits of resolution (exactly representable in float).
  float uniform(std::uint64_t i) const noexcept {
    return static_cast<float>(bits(i) >> 40) * (1.0f / 16777216.0f);
  }
  // out[j] = uniform(first + j) for j < n: the same values, with 8 counters at a time where
  // the CPU has 64-bit vector multiplies (AVX-512 DQ).
  void fill_uniform(std::uint64_t first, float* out, std::size_t n) const noexcept;
  // Standard normal (Box-Muller on two counters derived from i).
  float normal(std::uint64_t i) const noexcept;

  // The random sparsifiers' keep-or-drop draws, where uniform()'s four multiplies per value
  // were a fifth of DARE's time: uniform in [0, 1) with 24 bits as uniform(), but two values
  // from each 64-bit word of one splitmix64 step, word k = mix(stream + k * gamma) (draw 2k
  // from its low half, draw 2k + 1 from its high half): one multiply per value. Streams are
  // hashed 64-bit values, so two of them overlap within 2^32 words with probability about
  // 2^-31. A sequence of its own: draw(i) is not uniform(i).
  float draw(std::uint64_t i) const noexcept {
    const std::uint64_t word = rng_detail::mix(stream_ + (i / 2) * kGamma);
    return static_cast<float>(i % 2 ? word >> 40 : (word & 0xffffffffu) >> 8) * (1.0f / 16777216.0f);
  }
  // out[j] = draw(first + j) for j < n, 16 values a step where the CPU has AVX-512 DQ.
  void fill_draws(std::uint64_t first, float* out, std::size_t n) const noexcept;

 private:
  static constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ull;  // splitmix64's increment
  std::uint64_t stream_;
};

// Stable 64-bit hash of a string (FNV-1a), for deriving stream keys.
std::uint64_t hash_string(std::string_view s) noexcept;

}  // namespace weld
