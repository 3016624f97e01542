#include "tensor/rank_keep.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "support/isas.h"
#include "tensor/row_rank.h"

namespace weld {
namespace {

struct Kept {
  std::vector<float> row;
  std::size_t ranked;
};

// The definition: rank the whole row, then test every element.
std::vector<float> reference(std::vector<float> row, const std::vector<float>& u, RankProbability p) {
  std::vector<std::uint32_t> work(rank_work_size(row.size())), rank(row.size());
  magnitude_ranks(row, work, rank);
  for (std::size_t j = 0; j < row.size(); ++j)
    if (!(u[j] < p.threshold(rank[j]))) row[j] = 0.0f;
  return row;
}

// On every instruction set this machine has: each must give the same row and count.
Kept kept(const std::vector<float>& row, const std::vector<float>& u, RankProbability p) {
  std::optional<Kept> first;
  for (x86::Isa isa : test::runnable_isas()) {
    std::vector<std::uint32_t> work(rank_keep_work_size(row.size()));
    std::vector<float> thresholds(rank_keep_thresholds_size(row.size()));
    Kept k{row, 0};
    k.ranked = keep_by_rank(k.row, u, p, work, thresholds, isa);
    if (!first) {
      first = k;
      continue;
    }
    EXPECT_EQ(k.ranked, first->ranked) << static_cast<int>(isa);
    for (std::size_t j = 0; j < row.size(); ++j)  // bits: NaN and the sign of zero count
      EXPECT_EQ(std::bit_cast<std::uint32_t>(k.row[j]), std::bit_cast<std::uint32_t>(first->row[j])) << j;
  }
  return *first;
}

class Draws {
 public:
  std::uint32_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(state_ >> 33);
  }
  float uniform() { return static_cast<float>(next() >> 8) / 16777216.0f; }
  std::vector<float> uniforms(std::size_t n) {
    std::vector<float> u(n);
    for (float& x : u) x = uniform();
    return u;
  }

 private:
  std::uint64_t state_ = 91;
};

// DELLA's probabilities for a row of n: density 0.5, the given epsilon.
RankProbability della(std::size_t n, double epsilon) {
  return {0.5 - epsilon, 2.0 * epsilon / static_cast<double>(n - 1)};
}

TEST(RankKeep, HandCase) {
  // |x| ranks 1 3 0 2; p = 0.1 + 0.25 rank -> thresholds 0.35 0.85 0.1 0.6.
  const RankProbability p{0.1, 0.25};
  const Kept k = kept({-2.0f, 5.0f, 0.5f, 3.0f}, {0.3f, 0.9f, 0.05f, 0.6f}, p);
  EXPECT_EQ(k.row, (std::vector<float>{-2.0f, 0.0f, 0.5f, 0.0f}));
}

TEST(RankKeep, AZeroRowNeedsNoRanks) {
  const std::vector<float> zeros(64, 0.0f);
  const Kept k = kept(zeros, std::vector<float>(64, 0.9f), della(64, 0.1));
  EXPECT_EQ(k.row, zeros);
  EXPECT_EQ(k.ranked, 0u);
}

TEST(RankKeep, SpreadRowsRankOnlyAFew) {
  Draws draws;
  for (std::size_t n : {16u, 100u, 2048u, 5632u}) {
    for (double epsilon : {0.01, 0.1, 0.45}) {
      std::vector<float> row(n);
      for (float& x : row) x = std::pow(draws.uniform() - 0.5f, 3.0f);  // dense near zero
      const std::vector<float> u = draws.uniforms(n);
      const Kept k = kept(row, u, della(n, epsilon));
      EXPECT_EQ(k.row, reference(row, u, della(n, epsilon))) << n << " " << epsilon;
      if (n >= 2048 && epsilon == 0.1) {
        EXPECT_GT(k.ranked, 0u) << n << " " << epsilon;  // some settled one by one
        EXPECT_LT(k.ranked, n / 16) << n << " " << epsilon;
      }
    }
  }
}

TEST(RankKeep, ClusteredRowsAndZerosMatchTheDefinition) {
  Draws draws;
  for (std::size_t n : {16u, 17u, 300u, 2048u}) {
    // Few distinct values (deltas of bf16 weights are multiples of an ulp), half of them zero.
    std::vector<float> clustered(n), half_zero(n), heavy_tail(n, 1e-3f);
    for (std::size_t j = 0; j < n; ++j) {
      clustered[j] = static_cast<float>(static_cast<int>(draws.next() % 9) - 4) * 0x1p-12f;
      half_zero[j] = draws.next() % 2 ? 0.0f : (draws.uniform() - 0.5f);
    }
    heavy_tail[n / 2] = 1e6f;  // every other element in the lowest bucket
    for (double epsilon : {0.001, 0.1, 0.3}) {
      const RankProbability p = della(n, epsilon);
      for (const std::vector<float>& row : {clustered, half_zero, heavy_tail}) {
        const std::vector<float> u = draws.uniforms(n);
        EXPECT_EQ(kept(row, u, p).row, reference(row, u, p)) << n << " " << epsilon;
      }
    }
  }
}

TEST(RankKeep, TooManyUnsettledRanksTheWholeRow) {
  // One value everywhere but a single larger one: one wide bucket, many draws inside it.
  Draws draws;
  std::vector<float> row(2048, 0.25f);
  row[7] = 1.0f;
  const std::vector<float> u = draws.uniforms(row.size());
  const Kept k = kept(row, u, della(row.size(), 0.3));
  EXPECT_EQ(k.row, reference(row, u, della(row.size(), 0.3)));
  EXPECT_EQ(k.ranked, row.size());
}

TEST(RankKeep, NonFiniteAndSubnormalRowsMatchTheDefinition) {
  Draws draws;
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> with_inf(64), with_nan(64), subnormal(64);
  for (std::size_t j = 0; j < 64; ++j) {
    with_inf[j] = with_nan[j] = draws.uniform() - 0.5f;
    subnormal[j] = static_cast<float>(draws.next() % 50) * std::numeric_limits<float>::denorm_min();
  }
  with_inf[3] = -inf;
  with_nan[5] = std::numeric_limits<float>::quiet_NaN();
  for (const std::vector<float>& row : {with_inf, subnormal}) {
    const std::vector<float> u = draws.uniforms(row.size());
    EXPECT_EQ(kept(row, u, della(64, 0.2)).row, reference(row, u, della(64, 0.2)));
  }
  // NaN != NaN: compare what was dropped.
  const std::vector<float> u = draws.uniforms(64);
  const std::vector<float> got = kept(with_nan, u, della(64, 0.2)).row;
  const std::vector<float> want = reference(with_nan, u, della(64, 0.2));
  for (std::size_t j = 0; j < 64; ++j) EXPECT_EQ(got[j] == 0.0f, want[j] == 0.0f) << j;
}

}  // namespace
}  // namespace weld
