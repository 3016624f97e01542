#include "methods/scratch.h"

namespace weld {

std::span<float> Scratch::floats(std::size_t slot, std::size_t n) {
  std::vector<float>& buffer = floats_[slot];
  if (buffer.size() < n) buffer.resize(n);
  return {buffer.data(), n};
}

std::span<std::uint32_t> Scratch::keys(std::size_t n, std::size_t slot) {
  std::vector<std::uint32_t>& buffer = keys_[slot];
  if (buffer.size() < n) buffer.resize(n);
  return {buffer.data(), n};
}

std::span<float*> Scratch::pointers(std::size_t n) {
  if (pointers_.size() < n) pointers_.resize(n);
  return {pointers_.data(), n};
}

}  // namespace weld
