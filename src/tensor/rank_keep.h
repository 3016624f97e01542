// DELLA's keep test for a row: element j survives when its uniform draw u[j] is below a keep
// probability that rises with the rank of |row[j]| in the row. Ranking every element (a sort)
// was most of DELLA's time, yet almost every test is settled by bounds on the rank alone:
// counting the magnitudes into equal-width buckets bounds each element's rank by its
// bucket's range, and the probability is monotone in the rank. Only elements whose draw falls
// between the probabilities of their bucket's lowest and highest rank are ranked exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tensor/convert_x86.h"

namespace weld {

// p(rank) = lowest + step * rank, computed in double; the test is u < float(p(rank)).
struct RankProbability {
  double lowest;
  double step;
  double at(std::uint32_t rank) const noexcept { return lowest + step * static_cast<double>(rank); }
  float threshold(std::uint32_t rank) const noexcept { return static_cast<float>(at(rank)); }
};

// Work buffers for keep_by_rank on rows of up to n elements.
inline constexpr std::size_t rank_keep_work_size(std::size_t n) { return 5 * n; }
inline constexpr std::size_t rank_keep_thresholds_size(std::size_t n) { return n + 1; }

// Zeroes row[j] unless u[j] < p.threshold(rank_j), rank_j the rank of |row[j]| in the row
// (smallest first, ties to the lower index, as magnitude_ranks). The result is exactly that
// of ranking the whole row. Zeros (of either sign) are left as they are. REQUIRES:
// u.size() == row.size() < 2^32; work and thresholds at least rank_keep_work_size /
// rank_keep_thresholds_size of row.size(). Returns how many elements it
// ranked exactly (row.size() when it ranked the whole row), for tests and benchmarks. Tests
// pass each instruction set in turn (REQUIRES: isa <= x86::detected_isa()).
std::size_t keep_by_rank(std::span<float> row, std::span<const float> u, RankProbability p,
                         std::span<std::uint32_t> work, std::span<float> thresholds,
                         x86::Isa isa = x86::detected_isa()) noexcept;

}  // namespace weld
