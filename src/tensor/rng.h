// A counter-based random generator: the value for element i of a stream depends only on
// (seed, stream key, i), never on the order in which elements or tensors are visited, so
// random merges and synthetic models are identical on any thread count.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tensor/lanes.h"

namespace weld {

namespace rng_detail {

// The splitmix64 finaliser: a bijection on 64 bits whose output bits each depend on every
// input bit, so consecutive counters give unrelated values. In place, so that it also mixes
// a vector of 64-bit lanes lane by lane (a vector return would change the ABI).
template <class U64>
[[gnu::always_inline]] constexpr void mix_in_place(U64& z) noexcept {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
}

constexpr std::uint64_t mix(std::uint64_t z) noexcept {
  mix_in_place(z);
  return z;
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
  // The whole 32-bit half of the word that draw(i) takes its 24 bits from: uniform on
  // [0, 2^32), for draws of an index.
  std::uint32_t draw_bits(std::uint64_t i) const noexcept {
    const std::uint64_t word = rng_detail::mix(stream_ + (i / 2) * kGamma);
    return static_cast<std::uint32_t>(i % 2 ? word >> 32 : word);
  }
  // out[j] = draw_bits(first + j) for j < n, as fill_draws.
  void fill_draw_bits(std::uint64_t first, std::uint32_t* out, std::size_t n) const noexcept;
  // out[k] = draw_bits(first + offsets[k]) for k < n: the draws of scattered elements, 16 a
  // step where the CPU has AVX-512 DQ.
  void fill_draw_bits_at(std::uint64_t first, const std::uint32_t* offsets, std::size_t n,
                         std::uint32_t* out) const noexcept;
  // Another stream of this generator's seed and key, named `name`: its values are unrelated to
  // this one's at every counter.
  CounterRng substream(std::string_view name) const noexcept;
  // Lane j = draw(first + j), for fused kernels (tensor/lanes.h): the eight words in 64-bit
  // lanes are, read as 16 32-bit lanes, each word's low half then its high half, and a draw is
  // the top 24 bits of its half.
  [[gnu::always_inline]] void draw_lanes(std::uint64_t first, Lanes& out) const noexcept {
    DrawBits halves;
    draw_bits_lanes(first, halves);
    LaneDraws::to_draws(halves, out);
  }
  // Lane j = draw_bits(first + j), as draw_lanes.
  using DrawBits = std::uint32_t __attribute__((vector_size(64)));
  [[gnu::always_inline]] void draw_bits_lanes(std::uint64_t first, DrawBits& out) const noexcept {
    if (first % 2 != 0) {  // the words straddle the lanes: one draw at a time
      for (std::size_t j = 0; j < kLaneWidth; ++j) out[j] = draw_bits(first + j);
      return;
    }
    LaneDraws(*this, first).next_bits(out);
  }
  // draw(i) < keep exactly when draw_bits(i) <= last_kept_bits(keep), for keep > 0: one
  // unsigned compare of the halves in place of a shift, a conversion, a multiply and a float
  // compare (draw(i) is (draw_bits(i) >> 8) / 2^24, below keep when draw_bits(i) >> 8 is
  // below ceil(keep 2^24)).
  static std::uint32_t last_kept_bits(float keep) noexcept;
  // draw_lanes(first), draw_lanes(first + 16), ... in turn, from an even `first`: the words'
  // counter products carried from step to step, so that a step multiplies twice, not three
  // times (DARE's L1 pass, BM_family_lanes/dare_linear/0: about 6% less time).
  class LaneDraws {
   public:
    [[gnu::always_inline]] LaneDraws(const CounterRng& rng, std::uint64_t first) noexcept
        : word_(rng.stream_ + first / 2 * kGamma + Words{0, 1, 2, 3, 4, 5, 6, 7} * kGamma) {}
    [[gnu::always_inline]] void next(Lanes& out) noexcept {
      DrawBits halves;
      next_bits(halves);
      to_draws(halves, out);
    }
    // The same as draw_bits() values.
    [[gnu::always_inline]] void next_bits(DrawBits& out) noexcept {
      static_assert(std::endian::native == std::endian::little, "a word's low half comes first");
      Words word = word_;
      word_ += kLaneWidth / 2 * kGamma;
      rng_detail::mix_in_place(word);
      out = reinterpret_cast<DrawBits>(word);
    }
    // In place, as a vector return would change the ABI.
    [[gnu::always_inline]] static void to_draws(const DrawBits& halves, Lanes& out) noexcept {
      const DrawBits draws = halves >> 8;  // below 2^24: exact as int32 and float
      out = __builtin_convertvector(reinterpret_cast<LaneBits>(draws), Lanes) * (1.0f / 16777216.0f);
    }

   private:
    using Words = std::uint64_t __attribute__((vector_size(64)));
    Words word_;
  };

 private:
  static constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ull;  // splitmix64's increment
  explicit CounterRng(std::uint64_t stream) noexcept : stream_(stream) {}
  std::uint64_t stream_;
};

// Stable 64-bit hash of a string (FNV-1a), for deriving stream keys.
std::uint64_t hash_string(std::string_view s) noexcept;

}  // namespace weld
