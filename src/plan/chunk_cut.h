// How the executor cuts an output tensor into chunks, the units of work it hands out.
#pragma once

#include <cstddef>
#include <cstdint>

namespace weld {

// Chunks end, where they can, on multiples of this in the output file, so that each is a
// whole aligned piece of it and its 128 KiB tiles start on 128 KiB multiples: the page cache
// then keeps them in folios of 32 pages, where tiles that start anywhere (the header is not
// a multiple of anything) land in folios of 1 to 16 (docs/performance.md, "Large folios").
inline constexpr std::uint64_t kChunkAlignBytes = std::uint64_t{2} << 20;

// A first chunk of `first` elements, then chunks of `step`.
struct ChunkCut {
  std::uint64_t first;
  std::uint64_t step;

  // For a tensor of numel elements: at least one, empty where numel is 0.
  std::uint64_t count(std::uint64_t numel) const;
  std::uint64_t begin(std::uint64_t chunk) const { return chunk == 0 ? 0 : first + (chunk - 1) * step; }
  std::uint64_t end(std::uint64_t chunk, std::uint64_t numel) const;
};

// Chunks of `step` values of `value_size` bytes for a tensor whose data starts at byte
// `data_offset` of its file: the first ends where the data reaches a multiple of
// kChunkAlignBytes (as near as whole values allow), so that the others start on such
// multiples when step * value_size is one or divides one. REQUIRES: step, value_size > 0.
ChunkCut aligned_chunk_cut(std::uint64_t step, std::size_t value_size, std::uint64_t data_offset);

}  // namespace weld
