#include "plan/chunk_cut.h"

#include <algorithm>

#include "util/check.h"

namespace weld {

std::uint64_t ChunkCut::count(std::uint64_t numel) const {
  if (numel <= first) return 1;
  const std::uint64_t rest = numel - first;
  return 1 + rest / step + (rest % step != 0);
}

std::uint64_t ChunkCut::end(std::uint64_t chunk, std::uint64_t numel) const {
  return std::min(numel, chunk == 0 ? first : begin(chunk) + step);
}

ChunkCut aligned_chunk_cut(std::uint64_t step, std::size_t value_size, std::uint64_t data_offset) {
  WELD_CHECK(step > 0 && value_size > 0);
  const std::uint64_t to_boundary = (kChunkAlignBytes - data_offset % kChunkAlignBytes) % kChunkAlignBytes;
  // A first chunk longer than a step would be a step of its own.
  const std::uint64_t first = to_boundary / value_size % step;
  return {first == 0 ? step : first, step};
}

}  // namespace weld
