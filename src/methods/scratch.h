// Buffers a whole-tensor method borrows from its worker instead of allocating per tensor:
// freshly allocated memory costs a page fault per 4 KiB on first touch (here 0.4-1.7 GB/s),
// which for a 32000 x 2048 embedding is seconds. Buffers grow to the largest tensor seen and
// are reused; their contents on entry are unspecified. One Scratch per worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace weld {

class Scratch {
 public:
  // n floats in buffer `slot` (slots are independent; each method numbers its own).
  std::span<float> floats(std::size_t slot, std::size_t n);
  // n 32-bit keys (selection keys, indices, ranks) in buffer `slot`.
  std::span<std::uint32_t> keys(std::size_t n, std::size_t slot = 0);
  // n pointers (to the inputs or buffers of a tile, say), so that no tile allocates.
  std::span<float*> pointers(std::size_t n);

 private:
  // By slot number: slots are few, and shared helpers (sparsify) use high numbers so as to
  // stay out of the way of the method that calls them.
  std::map<std::size_t, std::vector<float>> floats_;
  std::map<std::size_t, std::vector<std::uint32_t>> keys_;
  std::vector<float*> pointers_;
};

}  // namespace weld
