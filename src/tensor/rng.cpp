#include "tensor/rng.h"

#include <cmath>
#include <numbers>

namespace weld {
namespace {

using rng_detail::mix;
constexpr double kTwoToMinus24 = 1.0 / 16777216.0;

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

float CounterRng::normal(std::uint64_t i) const noexcept {
  // A separate draw from uniform(i), so the two can be used together without correlation.
  const std::uint64_t b = mix(bits(i) ^ 0x5851f42d4c957f2dull);
  const double u1 = static_cast<double>((b >> 40) + 1) * kTwoToMinus24;  // (0, 1]: log is finite
  const double u2 = static_cast<double>(b & 0xffffff) * kTwoToMinus24;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

}  // namespace weld
