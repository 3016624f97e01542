#include "tensor/rank_keep.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "tensor/rank_keep_x86.h"
#include "tensor/row_rank.h"
#include "tensor/select.h"
#include "tensor/vector_clones.h"

namespace weld {
namespace {

constexpr std::uint32_t kInfinityKey = 0x7f800000u;
// Below this many elements the buckets save nothing over ranking the row.
constexpr std::size_t kSmallestBucketedRow = 64;

// keys[j] = magnitude_key(row[j]); returns the largest, and the smallest but zero.
struct KeyRange {
  std::uint32_t lowest_nonzero = ~0u;
  std::uint32_t top = 0;
};
WELD_VECTOR_CLONES KeyRange magnitude_keys(const float* row, std::size_t n, std::uint32_t* keys) noexcept {
  // Plain locals, not the struct's members: GCC vectorises only those reductions.
  std::uint32_t top = 0, below_lowest = ~0u;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t key = magnitude_key(row[j]);
    keys[j] = key;
    top = std::max(top, key);
    below_lowest = std::min(below_lowest, key - 1);  // zero's key - 1 wraps to the largest
  }
  return {below_lowest + 1, top};
}

// Nonzero magnitudes fall in buckets 1 .. last of equal width in their keys (bucket 0 is the
// zeros'): a smaller bucket means a strictly smaller magnitude. Equal widths of the bits are
// widths in proportion to the magnitude, which spread the many small values of a task vector
// better than equal widths of the value do. Fewer buckets than elements: the table stays in
// L1, and the few more elements left unsettled cost less than a larger table would.
constexpr std::size_t kElementsPerBucket = 4;

// buckets[j] for the keys: 0 for zeros, else 1 + min((key - lowest) >> shift, last - 1).
WELD_VECTOR_CLONES void bucket_keys(const std::uint32_t* keys, std::size_t n, std::uint32_t lowest, int shift,
                                    std::uint32_t last, std::uint32_t* buckets) noexcept {
  for (std::size_t j = 0; j < n; ++j)
    buckets[j] = keys[j] == 0 ? 0 : 1 + std::min((keys[j] - lowest) >> shift, last - 1);
}

// below[b] = the number of elements in buckets under b: the lowest rank in bucket b, for b
// up to `count` (the number of buckets). (Four tables counting alternate elements, so that
// neighbours in the same bucket do not wait on each other's count, were slower.)
void count_below(const std::uint32_t* buckets, std::size_t n, std::size_t count, std::uint32_t* below) noexcept {
  std::fill(below, below + count + 1, 0u);
  for (std::size_t j = 0; j < n; ++j) ++below[buckets[j] + 1];
  for (std::size_t b = 1; b <= count; ++b) below[b] += below[b - 1];
}

// thresholds[b] = p.threshold(below[b]) for b <= count: vectorised, in double as the scalar
// test computes it.
WELD_VECTOR_CLONES void fill_thresholds(const std::uint32_t* below, std::size_t count, RankProbability p,
                                        float* thresholds) noexcept {
  for (std::size_t b = 0; b <= count; ++b) thresholds[b] = p.threshold(below[b]);
}

// The scalar body of the settling pass (rank_keep_x86.h), from element `first` on.
void settle(SettlePass& pass, std::size_t first, std::size_t n) noexcept {
  for (std::size_t j = first; j < n; ++j) {
    const std::uint32_t b = pass.buckets[j];
    const bool dropped = (b != 0) & (pass.u[j] >= pass.thresholds[b + 1]);
    // A mask of the bits rather than a branch, which a random draw mispredicts half the time.
    pass.row[j] = std::bit_cast<float>(std::bit_cast<std::uint32_t>(pass.row[j]) & (std::uint32_t{dropped} - 1));
    if (!dropped && pass.u[j] >= pass.thresholds[b]) pass.note(j);
  }
}

// The rank of element j among keys[0, n): the keys below it, and the equal ones before it.
WELD_VECTOR_CLONES std::uint32_t rank_of(const std::uint32_t* keys, std::size_t n, std::size_t j) noexcept {
  const std::uint32_t key = keys[j];
  std::uint32_t rank = 0;
  for (std::size_t i = 0; i < j; ++i) rank += keys[i] <= key;
  for (std::size_t i = j + 1; i < n; ++i) rank += keys[i] < key;
  return rank;
}

std::size_t keep_by_full_ranks(std::span<float> row, std::span<const float> u, RankProbability p,
                               std::span<std::uint32_t> work) noexcept {
  const std::size_t n = row.size();
  const std::span<std::uint32_t> rank = work.subspan(4 * n, n);
  ranks_of_keys(work.first(4 * n), rank);
  for (std::size_t j = 0; j < n; ++j)
    if (row[j] != 0.0f && !(u[j] < p.threshold(rank[j]))) row[j] = 0.0f;
  return n;
}

}  // namespace

std::size_t keep_by_rank(std::span<float> row, std::span<const float> u, RankProbability p,
                         std::span<std::uint32_t> work, std::span<float> thresholds, x86::Isa isa) noexcept {
  const std::size_t n = row.size();
  std::uint32_t* keys = work.data();
  const KeyRange range = magnitude_keys(row.data(), n, keys);
  if (range.top == 0) return 0;  // all zeros
  if (n < kSmallestBucketedRow || range.top >= kInfinityKey) return keep_by_full_ranks(row, u, p, work);
  const std::size_t buckets = n / kElementsPerBucket;
  // The narrowest power-of-two width that fits the keys' range into the buckets.
  int shift = 0;
  while (((range.top - range.lowest_nonzero) >> shift) >= buckets - 1) ++shift;
  // Work: the keys, their buckets, the counts below each bucket, the unsettled elements.
  std::uint32_t* bucket_of = keys + n;
  std::uint32_t* below = bucket_of + n;
  bucket_keys(keys, n, range.lowest_nonzero, shift, static_cast<std::uint32_t>(buckets - 1), bucket_of);
  count_below(bucket_of, n, buckets, below);
  fill_thresholds(below, buckets, p, thresholds.data());
  thresholds[0] = std::numeric_limits<float>::infinity();
  SettlePass pass{bucket_of, u.data(), thresholds.data(), row.data(), below + buckets + 1, 8 + n / 16};
  // Settle what the bounds settle. The rest (a few per row) are ranked one by one, or with
  // the whole row when there are too many for that.
  settle(pass, x86::settle(pass, n, isa), n);
  if (pass.count > pass.capacity) return keep_by_full_ranks(row, u, p, work);
  for (std::size_t i = 0; i < pass.count; ++i) {
    const std::uint32_t j = pass.unsettled[i];
    if (!(u[j] < p.threshold(rank_of(keys, n, j)))) row[j] = 0.0f;
  }
  return pass.count;
}

}  // namespace weld
