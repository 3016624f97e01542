// Several token sequences stacked as the rows of one activation matrix: sequence s owns rows
// [starts[s], starts[s+1]). Positions restart at 0 in each sequence; attention never crosses
// a sequence boundary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace weld {

struct Batch {
  std::vector<std::uint32_t> tokens;
  std::vector<std::size_t> starts = {0};

  void add(std::span<const std::uint32_t> sequence) {
    tokens.insert(tokens.end(), sequence.begin(), sequence.end());
    starts.push_back(tokens.size());
  }
  std::size_t rows() const { return tokens.size(); }
  std::size_t n_sequences() const { return starts.size() - 1; }
  std::size_t length(std::size_t s) const { return starts[s + 1] - starts[s]; }
  std::size_t longest() const {
    std::size_t n = 0;
    for (std::size_t s = 0; s < n_sequences(); ++s) n = length(s) > n ? length(s) : n;
    return n;
  }
};

}  // namespace weld
