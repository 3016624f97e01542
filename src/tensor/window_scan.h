// The window pass of a streamed rank selection (tensor/streamed_select.h) over one piece of
// keys, in one sweep: it counts the keys below a window [low, high] and those equal to either
// bound, and copies the keys strictly inside (about 1% of them) with their indices. The
// AVX-512 body tests 16 keys a step and compresses the rare ones inside into place; the
// portable body counts in one vectorised pass and gathers in a second, after a quick test of
// each block.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tensor/convert_x86.h"

namespace weld {

struct WindowScan {
  std::uint64_t below = 0, equal_low = 0, equal_high = 0;
  std::size_t inside = 0;  // keys with low < key < high, copied to the caller's arrays
};

// Scans keys[j] (element begin + j) against the window [low, high] (low <= high). The keys
// inside go to inside_keys and their indices to inside_index, in order. REQUIRES: both arrays
// have room for keys.size() entries (the bodies write past what they keep, within that);
// begin + keys.size() <= 2^32. Tests pass each instruction set in turn (REQUIRES:
// isa <= x86::detected_isa()).
WindowScan scan_window(std::span<const std::uint32_t> keys, std::uint32_t low, std::uint32_t high,
                       std::uint64_t begin, std::uint32_t* inside_keys, std::uint32_t* inside_index,
                       x86::Isa isa = x86::detected_isa()) noexcept;

}  // namespace weld
