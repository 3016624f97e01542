#include "tensor/row_rank.h"

#include <array>
#include <utility>

#include "tensor/select.h"

namespace weld {
namespace {

constexpr int kDigitBits = 8;
constexpr std::size_t kBuckets = std::size_t{1} << kDigitBits;
constexpr int kPasses = 4;  // 32-bit keys

std::uint32_t digit(std::uint32_t key, int pass) { return (key >> (kDigitBits * pass)) & (kBuckets - 1); }

// The ranks of the keys already in work[0, rank.size()); overwrites them with the rest of work.
void ranks_of_keys(std::span<std::uint32_t> work, std::span<std::uint32_t> rank) noexcept {
  const std::size_t n = rank.size();
  std::uint32_t* keys = work.data();
  std::uint32_t* index = keys + n;
  std::uint32_t* keys_tmp = index + n;
  std::uint32_t* index_tmp = keys_tmp + n;
  // Passes in which every key has the same digit leave the order as it is: skip them.
  std::uint32_t all_or = 0, all_and = ~0u;
  for (std::size_t j = 0; j < n; ++j) {
    index[j] = static_cast<std::uint32_t>(j);
    all_or |= keys[j];
    all_and &= keys[j];
  }
  // One histogram pass for every digit, then one stable counting-sort pass per digit.
  std::array<std::array<std::uint32_t, kBuckets>, kPasses> count{};
  for (std::size_t j = 0; j < n; ++j)
    for (int pass = 0; pass < kPasses; ++pass) ++count[pass][digit(keys[j], pass)];
  for (int pass = 0; pass < kPasses; ++pass) {
    if (digit(all_or, pass) == digit(all_and, pass)) continue;
    std::array<std::uint32_t, kBuckets> next{};
    for (std::size_t b = 1; b < kBuckets; ++b) next[b] = next[b - 1] + count[pass][b - 1];
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint32_t slot = next[digit(keys[j], pass)]++;
      keys_tmp[slot] = keys[j];
      index_tmp[slot] = index[j];
    }
    std::swap(keys, keys_tmp);
    std::swap(index, index_tmp);
  }
  for (std::size_t r = 0; r < n; ++r) rank[index[r]] = static_cast<std::uint32_t>(r);
}

}  // namespace

void magnitude_ranks(std::span<const float> row, std::span<std::uint32_t> work,
                     std::span<std::uint32_t> rank) noexcept {
  for (std::size_t j = 0; j < row.size(); ++j) work[j] = magnitude_key(row[j]);
  ranks_of_keys(work, rank);
}


}  // namespace weld
