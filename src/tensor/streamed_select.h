// Rank selection over more keys than can be held: the caller produces the keys again for
// each pass, in index order (from memory-mapped inputs, say), and memory stays at a few
// 64 Ki-bin histograms whatever the count.
//
// Results are exactly select_rank's: the packed pair (key << 32 | index) at each rank, ties
// in key going to the lower index. It takes two passes (a histogram of the high 16 bits of
// every key, then of the low 16 bits of the keys in the chosen high bins), and a third that
// stops at the element only when a rank falls after the first of a run of equal keys.
//
//   StreamedSelector s(n, {rank});
//   while (!s.done()) { for (each tile in order) s.add(keys of the tile); s.end_pass(); }
//   s.result(0)
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace weld {

class StreamedSelector {
 public:
  // REQUIRES: every rank < n < 2^32.
  StreamedSelector(std::uint64_t n, std::vector<std::uint64_t> ranks);

  bool done() const { return pass_ == kDone; }
  // The keys of the next elements of this pass, in index order. Ignored once done().
  void add(std::span<const std::uint32_t> keys);
  // REQUIRES: this pass was given all n keys, or became done() on the way.
  void end_pass();
  // REQUIRES: done(). The pair at ranks[i].
  std::uint64_t result(std::size_t i) const;

 private:
  static constexpr int kDone = 3;

  // One of the ranks: where its search has got to.
  struct Target {
    std::uint64_t rank_left;  // among the keys that share what is known of its key so far
    std::uint32_t key = 0;    // the high half after pass 0, the whole key after pass 1
    std::size_t bin = 0;      // its high bin's index in low_bins_
    bool found = false;
    std::uint64_t pair = 0;
  };
  // The low-half histogram of the keys in one high bin, with the first index of each.
  struct LowBin {
    std::uint32_t high;
    std::vector<std::uint32_t> count, first;
  };

  void end_high_pass();
  void end_low_pass();

  std::uint64_t n_;
  std::uint64_t position_ = 0;  // index of the next key of this pass
  int pass_ = 0;
  std::vector<Target> targets_;
  std::vector<std::uint32_t> high_count_;
  std::vector<LowBin> low_bins_;
};

}  // namespace weld
