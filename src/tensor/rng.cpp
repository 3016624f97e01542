#include "tensor/rng.h"

#include <cmath>
#include <numbers>

namespace weld {
namespace {

// The splitmix64 finaliser: a bijection on 64 bits whose output bits each depend on every
// input bit, so consecutive counters give unrelated values.
constexpr std::uint64_t mix(std::uint64_t z) noexcept {
  z += 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr float kTwoToMinus24 = 1.0f / 16777216.0f;

}  // namespace

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

// Two rounds: one round of (stream ^ i) would let streams that differ in a few bits share
// values at counters that differ in the same bits.
std::uint64_t CounterRng::bits(std::uint64_t i) const noexcept { return mix(stream_ ^ mix(i)); }

float CounterRng::uniform(std::uint64_t i) const noexcept {
  return static_cast<float>(bits(i) >> 40) * kTwoToMinus24;
}

float CounterRng::normal(std::uint64_t i) const noexcept {
  // A separate draw from uniform(i), so the two can be used together without correlation.
  const std::uint64_t b = mix(bits(i) ^ 0x5851f42d4c957f2dull);
  const double u1 = static_cast<double>((b >> 40) + 1) * kTwoToMinus24;  // (0, 1]: log is finite
  const double u2 = static_cast<double>(b & 0xffffff) * kTwoToMinus24;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

}  // namespace weld
