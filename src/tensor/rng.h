// A counter-based random generator: the value for element i of a stream depends only on
// (seed, stream key, i), never on the order in which elements or tensors are visited, so
// random merges and synthetic models are identical on any thread count.
#pragma once

#include <cstdint>
#include <string_view>

namespace weld {

class CounterRng {
 public:
  // `key` names the stream, e.g. a tensor name plus the model index.
  CounterRng(std::uint64_t seed, std::string_view key) noexcept;

  // 64 random bits for counter i.
  std::uint64_t bits(std::uint64_t i) const noexcept;
  // Uniform in [0, 1), 24 bits of resolution (exactly representable in float).
  float uniform(std::uint64_t i) const noexcept;
  // Standard normal (Box-Muller on two counters derived from i).
  float normal(std::uint64_t i) const noexcept;

 private:
  std::uint64_t stream_;
};

// Stable 64-bit hash of a string (FNV-1a), for deriving stream keys.
std::uint64_t hash_string(std::string_view s) noexcept;

}  // namespace weld
