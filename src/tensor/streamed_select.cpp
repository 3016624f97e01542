#include "tensor/streamed_select.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/select.h"
#include "tensor/window_scan.h"
#include "util/check.h"

namespace weld {
namespace {

// Counts up to this are read whole in the first pass and selected in memory (1 MiB of keys).
constexpr std::uint64_t kReadWhole = std::uint64_t{1} << 18;
// Otherwise the sample is n / 16 keys, at most kMaxSample, in pieces of kPiece keys. Each
// piece costs the caller a read of every input: pieces of 1024 keys made the sample's small
// reads a third of a 22-layer ties merge's 192 Ki preads (4096: 124 Ki in all), while pieces
// of 8192 or more made that merge slower again.
constexpr std::uint64_t kSampleDivisor = 16;
constexpr std::uint64_t kMaxSample = std::uint64_t{1} << 18;
constexpr std::uint64_t kPiece = 4096;
// The keys equal to a window's bounds are counted by pieces of up to this many elements, so
// that a run's occurrence is found by reading one piece again (a tile, in the merge), while
// the counts take at most about 2n / kRunPiece entries (they took one per add() call with
// keys at a bound: 2 MB per rank for a 263 M-element tensor of bf16 task vectors).
constexpr std::uint64_t kRunPiece = std::uint64_t{1} << 16;

// The digit whose cumulative count first exceeds `rank`; `rank` becomes the rank within it.
std::uint32_t find_digit(const std::vector<std::uint32_t>& histogram, std::uint64_t& rank) {
  for (std::uint32_t digit = 0;; ++digit) {
    if (rank < histogram[digit]) return digit;
    rank -= histogram[digit];
  }
}


std::uint32_t key_of(std::uint64_t pair) { return static_cast<std::uint32_t>(pair >> 32); }

// A window (low, high) too wide to keep is counted in kSelectDigits bins: bin b holds the keys
// k with b <= (k - low - 1) * kSelectDigits / span < b + 1, span being the count of keys
// strictly inside. first_in_bin(b) is bin b's first key (and b = kSelectDigits gives high).
std::uint64_t window_span(std::uint32_t low, std::uint32_t high) { return std::uint64_t{high} - low - 1; }

std::uint32_t first_in_bin(std::uint32_t low, std::uint64_t span, std::uint64_t bin) {
  return static_cast<std::uint32_t>(low + 1 + (bin * span + kSelectDigits - 1) / kSelectDigits);
}

std::size_t bin_of(std::uint32_t key, std::uint32_t low, std::uint64_t span) {
  return static_cast<std::size_t>((std::uint64_t{key} - low - 1) * kSelectDigits / span);
}

// Moves to the front of keys/index, in order, the first n entries whose keys lie in bins
// [begin, end); returns how many.
std::size_t keep_bins(std::uint32_t low, std::uint64_t span, std::size_t begin, std::size_t end,
                      std::uint32_t* keys, std::uint32_t* index, std::size_t n) {
  std::size_t kept = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const std::size_t b = bin_of(keys[j], low, span);
    if (b < begin || b >= end) continue;
    keys[kept] = keys[j];
    index[kept++] = index[j];
  }
  return kept;
}

}  // namespace

StreamedSelector::StreamedSelector(std::uint64_t n, std::vector<std::uint64_t> ranks, std::uint64_t max_window)
    : n_(n), max_window_(max_window) {
  WELD_CHECK(n < (std::uint64_t{1} << 32));
  for (std::uint64_t rank : ranks) {
    WELD_CHECK(rank < n);
    Target& t = targets_.emplace_back();
    t.rank = rank;
  }
  if (targets_.empty()) {
    phase_ = Phase::kDone;
    return;
  }
  if (n <= kReadWhole) {
    ranges_ = {{0, n}};
    sample_.reserve(static_cast<std::size_t>(n));
    ++full_passes_;
    return;
  }
  const std::uint64_t pieces = std::min(n / kSampleDivisor, kMaxSample) / kPiece;
  sample_.reserve(static_cast<std::size_t>(pieces * kPiece));
  for (std::uint64_t i = 0; i < pieces; ++i) {
    const std::uint64_t begin = i * n / pieces;
    ranges_.push_back({begin, begin + kPiece});
  }
}

void StreamedSelector::add(std::uint64_t begin, std::span<const std::uint32_t> keys) {
  switch (phase_) {
    case Phase::kSample:
      sample_.insert(sample_.end(), keys.begin(), keys.end());
      break;
    case Phase::kWindow:
      for (Target& t : targets_)
        if (t.state == State::kWindow) add_window(t, begin, keys);
      break;
    case Phase::kRun:
      add_run(begin, keys);
      break;
    case Phase::kHigh:
      add_high(keys);
      break;
    case Phase::kLow:
      add_low(begin, keys);
      break;
    case Phase::kDone:
      break;
  }
}

void StreamedSelector::open_window(Target& t, std::uint32_t low, std::uint32_t high, std::uint64_t capacity,
                                   std::uint32_t guess) {
  t.state = State::kWindow;
  t.low = low;
  t.high = high;
  t.below = t.equal_low = t.equal_high = t.inside = t.capacity = 0;
  if (capacity > max_window_) {  // too wide to keep: its keys are counted by bin, some kept
    t.bins.count.assign(kSelectDigits, 0);
    t.bins.key.assign(kSelectDigits, 0);
    t.bins.guess = guess;
    t.bins.kept = 0;
    t.bins.keep_begin = 0;
    // A guess equal to a bound is a run of it in the sample from that bound to the rank's
    // place: the rank is in its run, which the counts by piece find, not among the keys inside.
    t.bins.keep_end = guess == low || guess == high ? 0 : kSelectDigits;
    if (t.bins.keep_end == 0) return;
    capacity = max_window_;
  }
  t.capacity = capacity;
  // Uninitialised: only the pages the pass fills are ever touched.
  t.inside_keys = std::make_unique_for_overwrite<std::uint32_t[]>(static_cast<std::size_t>(capacity));
  t.inside_index = std::make_unique_for_overwrite<std::uint32_t[]>(static_cast<std::size_t>(capacity));
}

void StreamedSelector::add_to_pieces(std::vector<PieceCount>& counts, KeyRange piece, std::uint64_t first,
                                     std::uint64_t second) {
  if (!counts.empty() && piece.end - counts.back().piece.begin <= kRunPiece) {
    PieceCount& last = counts.back();
    last.piece.end = piece.end;
    last.count[0] += first;
    last.count[1] += second;
  } else {
    counts.push_back({piece, {first, second}});
  }
}

void StreamedSelector::add_window(Target& t, std::uint64_t begin, std::span<const std::uint32_t> keys) {
  // The keys inside go straight to the target's buffers where those have room for all of
  // the call's keys (the scan writes past what it keeps); else through the pass's own.
  const bool counted = !t.bins.count.empty();
  const bool direct = !counted && t.capacity - t.inside >= keys.size();
  if (!direct && window_keys_.size() < keys.size()) {
    window_keys_.resize(keys.size());
    window_index_.resize(keys.size());
  }
  std::uint32_t* inside_keys = direct ? t.inside_keys.get() + t.inside : window_keys_.data();
  std::uint32_t* inside_index = direct ? t.inside_index.get() + t.inside : window_index_.data();
  const WindowScan scan = scan_window(keys, t.low, t.high, begin, inside_keys, inside_index);
  t.below += scan.below;
  const std::uint64_t equal_high = t.low == t.high ? 0 : scan.equal_high;
  if (scan.equal_low + equal_high > 0)
    add_to_pieces(t.bound_counts, {begin, begin + keys.size()}, scan.equal_low, equal_high);
  t.equal_low += scan.equal_low;
  t.equal_high += equal_high;
  if (scan.inside == 0) return;
  if (counted) {
    add_to_bins(t, begin + keys.size(), scan.inside);
    return;
  }
  if (t.inside + scan.inside > t.capacity) {
    // The sample misled: give the window up and redo this rank by histograms.
    t.state = State::kFailed;
    drop_window(t);
    return;
  }
  if (!direct) {
    std::copy_n(window_keys_.data(), scan.inside, t.inside_keys.get() + t.inside);
    std::copy_n(window_index_.data(), scan.inside, t.inside_index.get() + t.inside);
  }
  t.inside += scan.inside;
}

void StreamedSelector::add_to_bins(Target& t, std::uint64_t seen, std::size_t inside) {
  WindowBins& bins = t.bins;
  const std::uint64_t span = window_span(t.low, t.high);
  std::uint32_t* keys = window_keys_.data();
  std::uint32_t* index = window_index_.data();
  for (std::size_t j = 0; j < inside; ++j) {
    const std::size_t b = bin_of(keys[j], t.low, span);
    if (bins.count[b]++ == 0) bins.key[b] = keys[j];
    else if (bins.key[b] != keys[j]) bins.key[b] = t.low;  // no key inside equals low
    if (keys[j] == bins.guess) add_to_pieces(bins.guess_counts, {index[j], std::uint64_t{index[j]} + 1}, 1, 0);
  }
  t.inside += inside;
  if (bins.keep_begin == bins.keep_end) return;
  std::size_t keep = keep_bins(t.low, span, bins.keep_begin, bins.keep_end, keys, index, inside);
  if (bins.kept + keep > t.capacity) {
    narrow_kept_bins(t, seen);
    keep = keep_bins(t.low, span, bins.keep_begin, bins.keep_end, keys, index, keep);
    if (keep == 0) return;
  }
  std::copy_n(keys, keep, t.inside_keys.get() + bins.kept);
  std::copy_n(index, keep, t.inside_index.get() + bins.kept);
  bins.kept += keep;
}

void StreamedSelector::narrow_kept_bins(Target& t, std::uint64_t seen) const {
  WindowBins& bins = t.bins;
  const std::vector<std::uint32_t>& count = bins.count;
  // The rank's place among the keys inside so far, if the keys seen are like the rest, and
  // the most keys the bins kept may hold now, so that they end at 3/4 of the buffers if the
  // rest of the pass brings them keys in the same proportion.
  const double share = static_cast<double>(seen) / static_cast<double>(n_);
  const double place = static_cast<double>(t.rank) * share - static_cast<double>(t.below + t.equal_low);
  const auto budget = static_cast<std::uint64_t>(0.75 * share * static_cast<double>(t.capacity));
  std::size_t b = bins.keep_begin;
  std::uint64_t before = 0;  // keys inside in bins [0, b)
  for (std::size_t i = 0; i < bins.keep_begin; ++i) before += count[i];
  while (b + 1 < bins.keep_end && static_cast<double>(before + count[b]) <= place) before += count[b++];
  std::size_t begin = b, end = b;
  std::uint64_t held = 0;
  if (count[b] <= budget) {
    // Grow from the rank's bin to either side, to the side with fewer keys between its end
    // and the rank's place, while the bins fit.
    double lower = place - static_cast<double>(before), upper = static_cast<double>(before + count[b]) - place;
    end = b + 1;
    held = count[b];
    for (;;) {
      const bool down = begin > bins.keep_begin && held + count[begin - 1] <= budget;
      const bool up = end < bins.keep_end && held + count[end] <= budget;
      if (down && (!up || lower <= upper)) {
        held += count[--begin];
        lower += count[begin];
      } else if (up) {
        held += count[end];
        upper += count[end++];
      } else {
        break;
      }
    }
  }
  const std::uint64_t span = window_span(t.low, t.high);
  bins.kept = keep_bins(t.low, span, begin, end, t.inside_keys.get(), t.inside_index.get(),
                        static_cast<std::size_t>(bins.kept));
  bins.keep_begin = begin;
  bins.keep_end = end;
  if (begin == end) {  // the rank's bin alone is too many keys: the next pass keeps them
    t.inside_keys.reset();
    t.inside_index.reset();
  }
}

void StreamedSelector::select_kept(Target& t, std::uint64_t count, std::uint64_t r) {
  const std::span<const std::uint32_t> kept(t.inside_keys.get(), static_cast<std::size_t>(count));
  const std::uint64_t pair = select_rank(kept, static_cast<std::size_t>(r));
  t.pair = rank_pair(key_of(pair), t.inside_index[static_cast<std::uint32_t>(pair)]);
  t.state = State::kFound;
}

void StreamedSelector::narrow_window(Target& t, const WindowBins& bins, std::uint64_t r) {
  std::size_t b = 0;
  while (r >= bins.count[b]) r -= bins.count[b++];
  if (bins.key[b] != t.low && bins.key[b] == bins.guess) {  // the guess's, which is counted by piece
    find_run(t, bins.guess, r, bins.guess_counts, 0);
    return;
  }
  if (bins.key[b] != t.low && bins.count[b] > max_window_) {
    // One key, too frequent to keep: the rank is occurrence r of it, which one pass finds.
    find_run(t, bins.key[b], r, {{{0, n_}, {bins.count[b], 0}}}, 0);
    return;
  }
  const std::uint64_t span = window_span(t.low, t.high);
  const std::uint32_t low = first_in_bin(t.low, span, b) - 1;
  open_window(t, low, first_in_bin(t.low, span, b + 1), bins.count[b], low);
}

void StreamedSelector::add_run(std::uint64_t begin, std::span<const std::uint32_t> keys) {
  const std::uint64_t end = begin + keys.size();
  for (Target& t : targets_) {
    if (t.state != State::kRun) continue;
    const std::uint64_t from = std::max(begin, t.piece.begin), to = std::min(end, t.piece.end);
    for (std::uint64_t i = from; i < to; ++i) {
      if (keys[i - begin] != t.key) continue;
      if (t.rank_left-- == 0) {
        t.state = State::kFound;
        t.pair = rank_pair(t.key, i);
        break;
      }
    }
  }
  // Stop the pass early when nothing else is searched for.
  if (!any(State::kRun) && !any(State::kWindow) && !any(State::kFailed)) phase_ = Phase::kDone;
}

void StreamedSelector::add_high(std::span<const std::uint32_t> keys) {
  // Four interleaved histograms: runs of keys in one bin (weights cluster in a few
  // exponents) would otherwise wait on each other's increments.
  std::size_t j = 0;
  for (; j + 4 <= keys.size(); j += 4)
    for (std::size_t lane = 0; lane < 4; ++lane) ++high_count_[lane * kSelectDigits + (keys[j + lane] >> 16)];
  for (; j < keys.size(); ++j) ++high_count_[keys[j] >> 16];
}

void StreamedSelector::add_low(std::uint64_t begin, std::span<const std::uint32_t> keys) {
  for (LowBin& bin : low_bins_) {
    for (std::size_t j = 0; j < keys.size(); ++j) {
      if ((keys[j] >> 16) != bin.high) continue;
      const std::uint32_t low = keys[j] & 0xffffu;
      if (bin.count[low]++ == 0) bin.first[low] = static_cast<std::uint32_t>(begin + j);
    }
  }
}

void StreamedSelector::end_pass() {
  switch (phase_) {
    case Phase::kSample:
      end_sample();
      break;
    case Phase::kWindow:
      for (Target& t : targets_)
        if (t.state == State::kWindow) end_window(t);
      next_phase();
      break;
    case Phase::kRun:
      WELD_CHECK(!any(State::kRun));  // every occurrence lies in the pieces read
      next_phase();
      break;
    case Phase::kHigh:
      end_high_pass();
      break;
    case Phase::kLow:
      end_low_pass();
      break;
    case Phase::kDone:
      break;
  }
}

void StreamedSelector::end_sample() {
  if (sample_.size() == n_) {  // the sample is every key, in order
    for (Target& t : targets_) {
      t.pair = select_rank(sample_, static_cast<std::size_t>(t.rank));
      t.state = State::kFound;
    }
    sample_ = {};
    phase_ = Phase::kDone;
    return;
  }
  // A window of sample ranks around the rank's place in the sample: four standard deviations
  // of a sample quantile, plus a margin for samples whose pieces are not independent (rows
  // of one scale, say).
  const auto m = static_cast<double>(sample_.size());
  // Each window's bounds: keys at sample ranks, all selected together; a bound past either
  // end of the sample is the end of the key range instead.
  std::vector<std::size_t> bound_ranks;
  std::vector<std::uint32_t*> bounds;
  std::vector<std::uint64_t> capacity;  // room for the keys inside each window
  for (Target& t : targets_) {
    const double q = static_cast<double>(t.rank) / static_cast<double>(n_);
    const double spread = 4.0 * std::sqrt(m * q * (1.0 - q)) + m / 256.0 + 16.0;
    const double low_rank = std::floor(q * m - spread), high_rank = std::ceil(q * m + spread);
    t.low = 0;
    t.high = std::numeric_limits<std::uint32_t>::max();
    if (low_rank >= 0.0) {
      bound_ranks.push_back(static_cast<std::size_t>(low_rank));
      bounds.push_back(&t.low);
    }
    if (high_rank < m) {
      bound_ranks.push_back(static_cast<std::size_t>(high_rank));
      bounds.push_back(&t.high);
    }
    bound_ranks.push_back(std::min(static_cast<std::size_t>(q * m), sample_.size() - 1));
    bounds.push_back(&t.guess);
    const double expected = (std::min(high_rank, m) - std::max(low_rank, 0.0)) / m * static_cast<double>(n_);
    capacity.push_back(static_cast<std::uint64_t>(2.0 * expected) + 4096);
  }
  const std::vector<std::uint32_t> keys = select_keys(sample_, bound_ranks);
  for (std::size_t b = 0; b < bounds.size(); ++b) *bounds[b] = keys[b];
  for (std::size_t i = 0; i < targets_.size(); ++i)
    open_window(targets_[i], targets_[i].low, targets_[i].high, capacity[i], targets_[i].guess);
  sample_ = {};
  phase_ = Phase::kWindow;
  ranges_ = {{0, n_}};
  ++full_passes_;
}

void StreamedSelector::end_window(Target& t) {
  std::uint64_t r = t.rank;
  t.state = State::kFailed;
  if (r >= t.below) {
    r -= t.below;
    if (r < t.equal_low) {
      find_run(t, t.low, r, t.bound_counts, 0);
    } else if ((r -= t.equal_low) < t.inside) {
      if (t.bins.count.empty()) {
        select_kept(t, t.inside, r);
      } else {  // counted by bin: the rank is among the keys kept, or its bin is next
        std::uint64_t before = 0;
        for (std::size_t b = 0; b < t.bins.keep_begin; ++b) before += t.bins.count[b];
        if (r >= before && r - before < t.bins.kept) {
          select_kept(t, t.bins.kept, r - before);
        } else {
          const WindowBins bins = std::move(t.bins);
          drop_window(t);
          narrow_window(t, bins, r);
          return;
        }
      }
    } else if ((r -= t.inside) < t.equal_high) {
      find_run(t, t.high, r, t.bound_counts, 1);
    }
  }
  drop_window(t);
}

void StreamedSelector::drop_window(Target& t) {
  t.inside_keys.reset();
  t.inside_index.reset();
  t.inside = 0;
  t.bound_counts = {};
  t.bins = {};
}

void StreamedSelector::find_run(Target& t, std::uint32_t key, std::uint64_t occurrence,
                                const std::vector<PieceCount>& counts, int which) {
  for (const PieceCount& c : counts) {
    if (occurrence < c.count[which]) {
      t.state = State::kRun;
      t.key = key;
      t.rank_left = occurrence;
      t.piece = c.piece;
      return;
    }
    occurrence -= c.count[which];
  }
  WELD_CHECK(false);  // the counts by piece add up to the key's count
}

void StreamedSelector::next_phase() {
  if (any(State::kRun)) {
    ranges_.clear();
    for (const Target& t : targets_)
      if (t.state == State::kRun) ranges_.push_back(t.piece);
    // Pieces overlap (a run of the whole tensor beside runs in pieces of it): the pass reads
    // their union, each element once, and each target counts in its own piece.
    std::sort(ranges_.begin(), ranges_.end(), [](KeyRange a, KeyRange b) { return a.begin < b.begin; });
    std::vector<KeyRange> reads;
    for (const KeyRange& r : ranges_) {
      if (!reads.empty() && r.begin <= reads.back().end) reads.back().end = std::max(reads.back().end, r.end);
      else reads.push_back(r);
    }
    ranges_ = std::move(reads);
    if (ranges_ == std::vector<KeyRange>{{0, n_}}) ++full_passes_;
    phase_ = Phase::kRun;
  } else if (any(State::kWindow)) {  // narrowed windows
    ranges_ = {{0, n_}};
    ++full_passes_;
    phase_ = Phase::kWindow;
  } else if (any(State::kFailed)) {
    for (Target& t : targets_) {
      if (t.state != State::kFailed) continue;
      t.state = State::kHistogram;
      t.rank_left = t.rank;
    }
    high_count_.assign(4 * kSelectDigits, 0);
    ranges_ = {{0, n_}};
    ++full_passes_;
    phase_ = Phase::kHigh;
  } else {
    phase_ = Phase::kDone;
  }
}

void StreamedSelector::end_high_pass() {
  for (std::size_t digit = 0; digit < kSelectDigits; ++digit)
    for (std::size_t lane = 1; lane < 4; ++lane) high_count_[digit] += high_count_[lane * kSelectDigits + digit];
  high_count_.resize(kSelectDigits);
  for (Target& t : targets_) {
    if (t.state != State::kHistogram) continue;
    t.key = find_digit(high_count_, t.rank_left);
    const auto same = std::find_if(low_bins_.begin(), low_bins_.end(),
                                   [&](const LowBin& b) { return b.high == t.key; });
    t.bin = static_cast<std::size_t>(same - low_bins_.begin());
    if (same == low_bins_.end())
      low_bins_.push_back({t.key, std::vector<std::uint32_t>(kSelectDigits, 0), std::vector<std::uint32_t>(kSelectDigits)});
  }
  high_count_ = {};
  ++full_passes_;
  phase_ = Phase::kLow;
}

void StreamedSelector::end_low_pass() {
  for (Target& t : targets_) {
    if (t.state != State::kHistogram) continue;
    const LowBin& bin = low_bins_[t.bin];
    const std::uint32_t low = find_digit(bin.count, t.rank_left);
    t.key = (bin.high << 16) | low;
    // The first of a run of equal keys (the only one, for most keys) needs no other pass.
    if (t.rank_left == 0) {
      t.state = State::kFound;
      t.pair = rank_pair(t.key, bin.first[low]);
    } else {
      t.state = State::kRun;
      t.piece = {0, n_};
    }
  }
  low_bins_ = {};
  next_phase();
}

bool StreamedSelector::any(State s) const {
  return std::any_of(targets_.begin(), targets_.end(), [&](const Target& t) { return t.state == s; });
}

std::uint64_t StreamedSelector::result(std::size_t i) const {
  WELD_CHECK(done());
  return targets_[i].pair;
}

}  // namespace weld
