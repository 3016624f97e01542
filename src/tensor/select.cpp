#include "tensor/select.h"

#include <algorithm>

#include "util/check.h"

namespace weld {

std::uint64_t select_rank(std::span<const std::uint32_t> keys, std::size_t rank,
                          std::vector<std::uint64_t>& scratch) {
  WELD_CHECK(rank < keys.size());
  scratch.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) scratch[i] = rank_pair(keys[i], i);
  std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(rank), scratch.end());
  return scratch[rank];
}

}  // namespace weld
