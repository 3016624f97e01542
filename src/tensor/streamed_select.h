// Rank selection over more keys than can be held: the caller produces the keys again for
// each pass (from memory-mapped inputs, say), reading the ranges of elements the selector
// asks for, and memory stays at a small fraction of the count.
//
// Results are exactly select_rank's: the packed pair (key << 32 | index) at each rank, ties
// in key going to the lower index. The passes:
//   1. a sample: evenly spaced pieces, about 1/16 of the keys (all of them for small counts,
//      and then the selection is made from the sample: one pass in all);
//   2. a window pass over every key: from the sample, a window of keys [low, high] that
//      should hold each rank; keys below it are counted, keys inside it kept with their
//      index (about 1% of the count), and the rank is selected among those;
//   3. only when the window's room (twice the keys expected, plus 4096) would be more than
//      max_window keys (a tensor of more than about 66 M elements, with the default): the
//      window pass counts its keys in 64 Ki bins of key, and keeps at most max_window of
//      them: those of a range of bins that narrows, around where the counts so far put the
//      rank, whenever it would hold more. A rank that falls in the bins kept is selected
//      among them. The sample's key at the rank's place (its guess) is counted by piece, so
//      that a rank among its occurrences (bf16 task vectors have few keys, each frequent)
//      reads one piece again. Else another window pass keeps the keys of the rank's bin (or,
//      for a bin of one key too frequent to keep, a pass stops at the rank's occurrence of
//      it). So memory stays bounded whatever the count, and a window that holds few more keys
//      than it may keep (its buffers fill late in the pass, when the counts place the rank
//      well) takes no more passes than one that holds fewer;
//   4. only when the rank falls in a run of keys equal to `low` or `high`: one more read of
//      the piece of the tensor (up to 64 Ki keys) that holds that occurrence;
//   5. only when the sample misled (the rank fell outside its window, or the window held
//      too many keys): the two 64 Ki-bin histogram passes of an exact radix selection, and
//      a third that stops at the element when the rank falls after the first of a run.
//
//   StreamedSelector s(n, {rank});
//   while (!s.done()) {
//     for (KeyRange r : s.ranges()) for (each tile in [r.begin, r.end)) s.add(tile.begin, keys);
//     s.end_pass();
//   }
//   s.result(0)
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace weld {

struct KeyRange {
  std::uint64_t begin, end;
  bool operator==(const KeyRange&) const = default;
};

class StreamedSelector {
 public:
  // The most keys a window pass keeps for one rank (8 bytes each with their index: 16 MB).
  static constexpr std::uint64_t kMaxWindow = std::uint64_t{1} << 21;

  // REQUIRES: every rank < n < 2^32.
  StreamedSelector(std::uint64_t n, std::vector<std::uint64_t> ranks, std::uint64_t max_window = kMaxWindow);

  bool done() const { return phase_ == Phase::kDone; }
  // The elements this pass reads, in increasing order: disjoint ranges of [0, n).
  const std::vector<KeyRange>& ranges() const { return ranges_; }
  // The keys of elements [begin, begin + keys.size()): the next elements of this pass's
  // ranges, in order. Ignored once done().
  void add(std::uint64_t begin, std::span<const std::uint32_t> keys);
  // REQUIRES: this pass was given every element of ranges(), or became done() on the way.
  void end_pass();
  // REQUIRES: done(). The pair at ranks[i].
  std::uint64_t result(std::size_t i) const;

  // How many passes over all n keys it made (for tests: the sample and the re-reads of a
  // piece do not count).
  int full_passes() const { return full_passes_; }

 private:
  enum class Phase { kSample, kWindow, kRun, kHigh, kLow, kDone };
  // How many keys equal to a window's bounds (count[0] low, count[1] high), or to one key
  // (count[0]), a piece of the tensor holds: pieces in order, each up to kRunPiece elements.
  struct PieceCount {
    KeyRange piece;
    std::uint64_t count[2];
  };
  // The keys inside a window too wide to keep, counted by bin; key[b] is bin b's only key so
  // far, or the window's low bound once it has had two. Those of bins [keep_begin, keep_end)
  // are kept too, `kept` of them, in the target's buffers.
  // The sample's guess at the rank's key is counted by piece too, so that a rank among its
  // occurrences (a bf16 task vector's keys are few and frequent) takes one piece to read
  // again, not a pass.
  struct WindowBins {
    std::vector<std::uint32_t> count, key;
    std::size_t keep_begin = 0, keep_end = 0;
    std::uint64_t kept = 0;
    std::uint32_t guess = 0;
    std::vector<PieceCount> guess_counts;
  };
  // Where one rank's search stands.
  enum class State { kWindow, kRun, kFailed, kHistogram, kFound };
  struct Target {
    std::uint64_t rank;
    State state = State::kWindow;
    std::uint64_t pair = 0;  // the result, once found
    // The window pass: keys below `low` are counted, keys equal to a bound counted by piece,
    // keys strictly inside kept (in index order) up to `capacity`: `inside` of them, in
    // buffers of that capacity, allocated when the window is set and never grown, so that
    // the pass touches their pages once (a vector growing to the count touched each size of
    // it anew, with a copy between).
    std::uint32_t low = 0, high = 0, guess = 0;  // guess: the sample's key at the rank's place
    std::uint64_t capacity = 0, below = 0, equal_low = 0, equal_high = 0, inside = 0;
    std::unique_ptr<std::uint32_t[]> inside_keys, inside_index;
    std::vector<PieceCount> bound_counts;
    // A window too wide to keep counts its keys here (`inside` of them), and its buffers,
    // of max_window keys, hold those of the bins it keeps.
    WindowBins bins;
    // A run of equal keys, or the histogram passes: the key so far, the rank among the keys
    // that share it, the piece of the tensor that holds it, the high bin in low_bins_.
    std::uint32_t key = 0;
    std::uint64_t rank_left = 0;
    KeyRange piece{};
    std::size_t bin = 0;
  };
  // The low-half histogram of the keys in one high bin, with the first index of each.
  struct LowBin {
    std::uint32_t high;
    std::vector<std::uint32_t> count, first;
  };

  // Sets a window pass's bounds for t, with room for `capacity` keys inside, or bins where
  // that is more than max_window_ (counting `guess` by piece).
  void open_window(Target& t, std::uint32_t low, std::uint32_t high, std::uint64_t capacity, std::uint32_t guess);
  void add_window(Target& t, std::uint64_t begin, std::span<const std::uint32_t> keys);
  // Counts `first` and `second` in `piece`, after those counted so far.
  static void add_to_pieces(std::vector<PieceCount>& counts, KeyRange piece, std::uint64_t first,
                            std::uint64_t second);
  // Counts the first `inside` keys of the pass's buffers (keys inside t's window) in its bins,
  // and keeps those of the bins it keeps; `seen` is how many elements the pass has read.
  void add_to_bins(Target& t, std::uint64_t seen, std::size_t inside);
  // Narrows the bins t keeps to those around where the counts of the pass's first `seen`
  // elements place the rank, few enough to fill at most 3/4 of t's buffers by the end of the
  // pass if the rest is like what was seen; drops the keys of the others.
  void narrow_kept_bins(Target& t, std::uint64_t seen) const;
  // Makes the result the pair at rank r among the first `count` keys of t's buffers.
  static void select_kept(Target& t, std::uint64_t count, std::uint64_t r);
  // The next pass for t, given the bins of its window: a window of the keys of the bin that
  // holds rank r among the keys inside, or the run of its key when it has only one, more
  // frequent than a window keeps.
  void narrow_window(Target& t, const WindowBins& bins, std::uint64_t r);
  void add_run(std::uint64_t begin, std::span<const std::uint32_t> keys);
  void add_high(std::span<const std::uint32_t> keys);
  void add_low(std::uint64_t begin, std::span<const std::uint32_t> keys);
  void end_sample();
  void end_window(Target& t);
  // Frees a window pass's buffers and counts by piece.
  void drop_window(Target& t);
  void end_high_pass();
  void end_low_pass();
  // Sets the next phase from the targets' states: runs to read, failures to redo by
  // histograms, or done.
  void next_phase();
  // t's rank is occurrence `occurrence` of `key` in index order, counted by piece in `counts`
  // (count[which]): the next pass reads the piece that holds it.
  static void find_run(Target& t, std::uint32_t key, std::uint64_t occurrence, const std::vector<PieceCount>& counts,
                       int which);
  bool any(State s) const;

  std::uint64_t n_;
  std::uint64_t max_window_;
  Phase phase_ = Phase::kSample;
  int full_passes_ = 0;
  std::vector<KeyRange> ranges_;
  std::vector<Target> targets_;
  std::vector<std::uint32_t> sample_;
  std::vector<std::uint32_t> high_count_;
  // Where a window pass gathers one add() call's keys inside a window, before they are kept.
  std::vector<std::uint32_t> window_keys_, window_index_;
  std::vector<LowBin> low_bins_;
};

}  // namespace weld
