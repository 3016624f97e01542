#include "tensor/streamed_select.h"

#include <algorithm>

#include "tensor/select.h"
#include "util/check.h"

namespace weld {
namespace {

constexpr std::size_t kDigits = std::size_t{1} << 16;

// The digit whose cumulative count first exceeds `rank`; `rank` becomes the rank within it.
std::uint32_t find_digit(const std::vector<std::uint32_t>& histogram, std::uint64_t& rank) {
  for (std::uint32_t digit = 0;; ++digit) {
    if (rank < histogram[digit]) return digit;
    rank -= histogram[digit];
  }
}

}  // namespace

StreamedSelector::StreamedSelector(std::uint64_t n, std::vector<std::uint64_t> ranks)
    : n_(n), high_count_(4 * kDigits, 0) {
  WELD_CHECK(n < (std::uint64_t{1} << 32));
  for (std::uint64_t rank : ranks) {
    WELD_CHECK(rank < n);
    targets_.push_back({.rank_left = rank});
  }
  if (targets_.empty()) pass_ = kDone;
}

void StreamedSelector::add(std::span<const std::uint32_t> keys) {
  const auto first_index = static_cast<std::uint32_t>(position_);
  position_ += keys.size();
  switch (pass_) {
    case 0: {
      // Four interleaved histograms: runs of keys in one bin (weights cluster in a few
      // exponents) would otherwise wait on each other's increments.
      std::size_t j = 0;
      for (; j + 4 <= keys.size(); j += 4)
        for (std::size_t lane = 0; lane < 4; ++lane) ++high_count_[lane * kDigits + (keys[j + lane] >> 16)];
      for (; j < keys.size(); ++j) ++high_count_[keys[j] >> 16];
      break;
    }
    case 1:
      for (LowBin& bin : low_bins_) {
        for (std::size_t j = 0; j < keys.size(); ++j) {
          if ((keys[j] >> 16) != bin.high) continue;
          const std::uint32_t low = keys[j] & 0xffffu;
          if (bin.count[low]++ == 0) bin.first[low] = first_index + static_cast<std::uint32_t>(j);
        }
      }
      break;
    case 2: {
      bool all_found = true;
      for (Target& t : targets_) {
        for (std::size_t j = 0; j < keys.size() && !t.found; ++j) {
          if (keys[j] != t.key) continue;
          if (t.rank_left-- == 0) {
            t.found = true;
            t.pair = rank_pair(t.key, first_index + j);
          }
        }
        all_found = all_found && t.found;
      }
      if (all_found) pass_ = kDone;
      break;
    }
    default:
      break;
  }
}

void StreamedSelector::end_pass() {
  if (pass_ == kDone) return;
  WELD_CHECK(position_ == n_);
  position_ = 0;
  if (pass_ == 0) {
    end_high_pass();
  } else {
    WELD_CHECK(pass_ == 1);  // the third pass ends as soon as its last rank is found
    end_low_pass();
  }
}

void StreamedSelector::end_high_pass() {
  for (std::size_t digit = 0; digit < kDigits; ++digit)
    for (std::size_t lane = 1; lane < 4; ++lane) high_count_[digit] += high_count_[lane * kDigits + digit];
  high_count_.resize(kDigits);
  for (Target& t : targets_) {
    t.key = find_digit(high_count_, t.rank_left);
    const auto same = std::find_if(low_bins_.begin(), low_bins_.end(),
                                   [&](const LowBin& b) { return b.high == t.key; });
    t.bin = static_cast<std::size_t>(same - low_bins_.begin());
    if (same == low_bins_.end())
      low_bins_.push_back({t.key, std::vector<std::uint32_t>(kDigits, 0), std::vector<std::uint32_t>(kDigits)});
  }
  high_count_ = {};
  pass_ = 1;
}

void StreamedSelector::end_low_pass() {
  bool all_found = true;
  for (Target& t : targets_) {
    const LowBin& bin = low_bins_[t.bin];
    const std::uint32_t low = find_digit(bin.count, t.rank_left);
    t.key = (bin.high << 16) | low;
    // The first of a run of equal keys (the only one, for most keys) needs no other pass.
    if (t.rank_left == 0) {
      t.found = true;
      t.pair = rank_pair(t.key, bin.first[low]);
    }
    all_found = all_found && t.found;
  }
  low_bins_ = {};
  pass_ = all_found ? kDone : 2;
}

std::uint64_t StreamedSelector::result(std::size_t i) const {
  WELD_CHECK(done());
  return targets_[i].pair;
}

}  // namespace weld
