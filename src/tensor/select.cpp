#include "tensor/select.h"

#include <vector>

#include "util/check.h"

namespace weld {
namespace {

// The digit whose cumulative count first exceeds `rank`; `rank` becomes the rank within it.
std::uint32_t find_digit(const std::vector<std::uint64_t>& histogram, std::uint64_t& rank) {
  for (std::uint32_t digit = 0;; ++digit) {
    if (rank < histogram[digit]) return digit;
    rank -= histogram[digit];
  }
}

std::vector<std::uint64_t> count_high_digits(std::span<const std::uint32_t> keys) {
  std::vector<std::uint64_t> histogram(kSelectDigits, 0);
  for (std::uint32_t key : keys) ++histogram[key >> 16];
  return histogram;
}

// Counts the low digits of the keys whose high digit is `high` into `histogram`.
void count_low_digits(std::span<const std::uint32_t> keys, std::uint32_t high, std::vector<std::uint64_t>& histogram) {
  std::fill(histogram.begin(), histogram.end(), 0);
  for (std::uint32_t key : keys)
    if ((key >> 16) == high) ++histogram[key & 0xffffu];
}

}  // namespace

std::vector<std::uint32_t> select_keys(std::span<const std::uint32_t> keys, std::span<const std::size_t> ranks) {
  std::vector<std::uint64_t> histogram = count_high_digits(keys);
  std::vector<std::uint32_t> high(ranks.size());
  std::vector<std::uint64_t> remaining(ranks.begin(), ranks.end());
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    WELD_CHECK(ranks[r] < keys.size());
    high[r] = find_digit(histogram, remaining[r]);
  }
  std::vector<std::uint32_t> found(ranks.size());
  std::vector<bool> done(ranks.size(), false);
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    if (done[r]) continue;
    count_low_digits(keys, high[r], histogram);
    for (std::size_t same = r; same < ranks.size(); ++same) {
      if (done[same] || high[same] != high[r]) continue;
      found[same] = (high[same] << 16) | find_digit(histogram, remaining[same]);
      done[same] = true;
    }
  }
  return found;
}

std::uint64_t select_rank(std::span<const std::uint32_t> keys, std::size_t rank) {
  WELD_CHECK(rank < keys.size());
  // The high 16 bits of the key at `rank`, then the low 16 bits among keys sharing them.
  std::vector<std::uint64_t> histogram = count_high_digits(keys);
  std::uint64_t remaining = rank;
  const std::uint32_t high = find_digit(histogram, remaining);
  count_low_digits(keys, high, histogram);
  const std::uint32_t key = (high << 16) | find_digit(histogram, remaining);
  // `remaining` is now how many elements with this key come before ours in index order.
  for (std::size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key && remaining-- == 0) return rank_pair(key, i);
  WELD_CHECK(false);
  return 0;
}

}  // namespace weld
