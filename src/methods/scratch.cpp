#include "methods/scratch.h"

namespace weld {

std::span<float> Scratch::floats(std::size_t slot, std::size_t n) {
  if (floats_.size() <= slot) floats_.resize(slot + 1);
  if (floats_[slot].size() < n) floats_[slot].resize(n);
  return {floats_[slot].data(), n};
}

std::span<std::uint32_t> Scratch::keys(std::size_t n, std::size_t slot) {
  if (keys_.size() <= slot) keys_.resize(slot + 1);
  if (keys_[slot].size() < n) keys_[slot].resize(n);
  return {keys_[slot].data(), n};
}

}  // namespace weld
