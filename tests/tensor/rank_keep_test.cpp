#include "tensor/rank_keep.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <optional>
#include <vector>

#include "support/isas.h"
#include "tensor/bitmask.h"
#include "tensor/convert.h"
#include "tensor/lanes.h"
#include "tensor/masked_delta.h"
#include "tensor/row_rank.h"

namespace weld {
namespace {

const CounterRng kRivals(7, "rivals");

// The definition, by ranks: element j is kept when u < p(0) (p's lower end), dropped when
// u >= p(n - 1) (its upper end), and in between kept when its rank is above its rival's
// (below it when p falls with the rank).
std::vector<float> reference(std::vector<float> row, const std::vector<float>& u, RankProbability p,
                             std::uint64_t first) {
  const std::size_t n = row.size();
  std::vector<std::uint32_t> work(rank_work_size(n)), rank(n);
  magnitude_ranks(row, work, rank);
  const double ends[2] = {p.at(0), p.at(static_cast<std::uint32_t>(n - 1))};
  const auto lowest = static_cast<float>(std::min(ends[0], ends[1]));
  const auto highest = static_cast<float>(std::max(ends[0], ends[1]));
  for (std::size_t j = 0; j < n; ++j) {
    if (row[j] == 0.0f || u[j] < lowest) continue;
    bool dropped = true;
    if (u[j] < highest) {
      const std::uint32_t rival = rival_of(kRivals.draw_bits(first + j), static_cast<std::uint32_t>(j),
                                           static_cast<std::uint32_t>(n), kRivals, first + j);
      dropped = (rank[j] > rank[rival]) != (ends[1] >= ends[0]);
    }
    if (dropped) row[j] = 0.0f;
  }
  return row;
}

// keep_by_rank with a tally, on `isa`, which must leave the row as `want` and tally the sums
// and the bits that L1 norms in a LaneSum and set_bits_of_nonzero would. The sums start at a lane and the
// bits at a bit inside a byte that `first` picks.
void expect_tally(const std::vector<float>& row, const std::vector<float>& u, RankProbability p, std::uint64_t first,
                  x86::Isa isa, const std::vector<float>& want) {
  const std::size_t n = row.size();
  const std::size_t earlier_terms = first % 11;
  LaneSum before, after, want_before, want_after;
  for (LaneSum* sum : {&before, &after, &want_before, &want_after})
    sum->add(earlier_terms, [](std::size_t j) { return 1e-3 * static_cast<double>(j + 1); });
  want_before.add(n, [&](std::size_t j) { return std::abs(static_cast<double>(row[j])); });
  want_after.add(n, [&](std::size_t j) { return std::abs(static_cast<double>(want[j])); });
  std::vector<std::uint8_t> bits(bitmask_bytes(first + n), 0), want_bits(bits.size(), 0);
  set_bits_of_nonzero(want, first, want_bits.data());
  std::vector<std::uint32_t> work(rank_keep_work_size(n));
  std::vector<float> out = row;
  const KeepTally tally{&before, &after, bits.data()};
  keep_by_rank(out, u, p, kRivals, first, work, &tally, isa);
  for (std::size_t j = 0; j < n; ++j)
    EXPECT_EQ(std::bit_cast<std::uint32_t>(out[j]), std::bit_cast<std::uint32_t>(want[j])) << j;
  // Zeros up to the next lane 0, where every lane can be compared: a sum left at another lane
  // has no lanes to show.
  const std::size_t to_lane_0 = (LaneSum::kLanes - (earlier_terms + n) % LaneSum::kLanes) % LaneSum::kLanes;
  for (LaneSum* sum : {&before, &after, &want_before, &want_after}) sum->add(to_lane_0, [](std::size_t) { return 0.0; });
  for (auto [got, expected] : {std::pair{&before, &want_before}, std::pair{&after, &want_after}}) {
    ASSERT_NE(got->lanes_at_first(), nullptr);
    for (std::size_t k = 0; k < LaneSum::kLanes; ++k)
      EXPECT_EQ(std::bit_cast<std::uint64_t>(got->lanes_at_first()[k]),
                std::bit_cast<std::uint64_t>(expected->lanes_at_first()[k])) << "lane " << k;
  }
  EXPECT_EQ(bits, want_bits);
}

// On every instruction set this machine has: each must give the same bits, with a tally or
// without (the tally is checked where `first` leaves its bits a small buffer).
std::vector<float> kept(const std::vector<float>& row, const std::vector<float>& u, RankProbability p,
                        std::uint64_t first = 0) {
  std::optional<std::vector<float>> result;
  for (x86::Isa isa : test::runnable_isas()) {
    std::vector<std::uint32_t> work(rank_keep_work_size(row.size()));
    std::vector<float> out = row;
    keep_by_rank(out, u, p, kRivals, first, work, nullptr, isa);
    if (!result) result = out;
    for (std::size_t j = 0; j < row.size(); ++j)  // bits: NaN and the sign of zero count
      EXPECT_EQ(std::bit_cast<std::uint32_t>(out[j]), std::bit_cast<std::uint32_t>((*result)[j]))
          << j << " isa " << static_cast<int>(isa);
    if (first + row.size() <= (std::uint64_t{1} << 20)) {
      SCOPED_TRACE(testing::Message() << "tally, isa " << static_cast<int>(isa) << " first " << first);
      expect_tally(row, u, p, first, isa, *result);
    }
  }
  return *result;
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
  // p from 0.4 (rank 0) to 0.6 (rank 2). Draws: 0.1 keeps, 0.7 drops, 0.5 asks the rival,
  // which the largest magnitude always beats and the smallest always loses to.
  const RankProbability p{0.4, 0.1};
  EXPECT_EQ(kept({1.0f, -2.0f, 5.0f}, {0.1f, 0.7f, 0.5f}, p), (std::vector<float>{1.0f, 0.0f, 5.0f}));
  EXPECT_EQ(kept({5.0f, -2.0f, 1.0f}, {0.1f, 0.7f, 0.5f}, p), (std::vector<float>{5.0f, 0.0f, 0.0f}));
  // Falling probabilities (a negative epsilon) turn it round.
  const RankProbability falling{0.6, -0.1};
  EXPECT_EQ(kept({1.0f, -2.0f, 5.0f}, {0.1f, 0.7f, 0.5f}, falling), (std::vector<float>{1.0f, 0.0f, 0.0f}));
}

TEST(RankKeep, ZerosStayAsTheyAre) {
  std::vector<float> row(64, 0.0f);
  row[3] = -0.0f;
  const std::vector<float> out = kept(row, std::vector<float>(64, 0.9f), della(64, 0.1));
  for (std::size_t j = 0; j < row.size(); ++j) EXPECT_EQ(std::bit_cast<std::uint32_t>(out[j]), std::bit_cast<std::uint32_t>(row[j]));
}

TEST(RankKeep, RowsMatchTheDefinition) {
  Draws draws;
  const float inf = std::numeric_limits<float>::infinity();
  for (std::size_t n : {2u, 3u, 16u, 17u, 100u, 2048u, 5632u}) {
    // Spread values dense near zero; few distinct values (deltas of bf16 weights are
    // multiples of an ulp); half zeros; one huge value; infinities and subnormals.
    std::vector<float> spread(n), clustered(n), half_zero(n), heavy_tail(n, 1e-3f), odd(n);
    for (std::size_t j = 0; j < n; ++j) {
      spread[j] = std::pow(draws.uniform() - 0.5f, 3.0f);
      clustered[j] = static_cast<float>(static_cast<int>(draws.next() % 9) - 4) * 0x1p-12f;
      half_zero[j] = draws.next() % 2 ? 0.0f : (draws.uniform() - 0.5f);
      odd[j] = j % 3 == 0 ? static_cast<float>(draws.next() % 50) * std::numeric_limits<float>::denorm_min()
                          : draws.uniform() - 0.5f;
    }
    heavy_tail[n / 2] = 1e6f;
    odd[n - 1] = -inf;
    for (double epsilon : {0.0, 0.001, 0.1, 0.45, -0.2}) {
      const RankProbability p = della(n, epsilon);
      for (const std::vector<float>& row : {spread, clustered, half_zero, heavy_tail, odd}) {
        const std::vector<float> u = draws.uniforms(n);
        // Counters anywhere, and ones whose tallied bits fit a small buffer.
        for (const std::uint64_t first : {std::uint64_t{draws.next()}, std::uint64_t{draws.next() % 50000}})
          EXPECT_EQ(kept(row, u, p, first), reference(row, u, p, first)) << n << " " << epsilon;
      }
    }
  }
}

TEST(RankKeep, NaNIsRankedAboveInfinity) {
  Draws draws;
  std::vector<float> row(64);
  for (float& x : row) x = draws.uniform() - 0.5f;
  row[5] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> u = draws.uniforms(64);
  const std::vector<float> got = kept(row, u, della(64, 0.2), 11);
  const std::vector<float> want = reference(row, u, della(64, 0.2), 11);
  for (std::size_t j = 0; j < 64; ++j) EXPECT_EQ(got[j] == 0.0f, want[j] == 0.0f) << j;  // NaN != NaN
}

// Keep rates follow p(rank) for every rank, ties included (ranked by index), within five
// standard deviations of a binomial.
TEST(RankKeep, KeepRatesFollowTheRankProbability) {
  const CounterRng draws(3, "u");
  const std::size_t trials = 40000;
  for (const std::vector<float>& row : {std::vector<float>{0.3f, -5.0f, 1.0f, 0.1f, 2.0f, -0.7f, 4.0f, 0.2f},
                                        std::vector<float>{1.0f, 1.0f, -1.0f, 1.0f}}) {
    const std::size_t n = row.size();
    std::vector<std::uint32_t> work(rank_work_size(n)), rank(n);
    magnitude_ranks(row, work, rank);
    const RankProbability p = della(n, 0.3);
    std::vector<double> kept_count(n, 0.0);
    std::vector<float> u(n), out(n);
    std::vector<std::uint32_t> keep_work(rank_keep_work_size(n));
    for (std::size_t t = 0; t < trials; ++t) {
      draws.fill_draws(t * n, u.data(), n);
      out = row;
      keep_by_rank(out, u, p, kRivals, t * n, keep_work);
      for (std::size_t j = 0; j < n; ++j) kept_count[j] += out[j] != 0.0f;
    }
    for (std::size_t j = 0; j < n; ++j) {
      const double want = p.at(rank[j]);
      const double sigma = std::sqrt(want * (1.0 - want) / static_cast<double>(trials));
      EXPECT_NEAR(kept_count[j] / static_cast<double>(trials), want, 5.0 * sigma) << "rank " << rank[j];
    }
  }
}

TEST(RankKeep, RivalsAreUniformOverTheOtherElements) {
  std::vector<double> count(5, 0.0);
  const std::size_t draws = 200000;
  for (std::size_t i = 0; i < draws; ++i) ++count[rival_of(kRivals.draw_bits(i), 2, 5, kRivals, i)];
  EXPECT_EQ(count[2], 0.0);
  for (std::size_t k : {0u, 1u, 3u, 4u}) EXPECT_NEAR(count[k] / draws, 0.25, 0.005) << k;
}

TEST(RankKeep, ARejectedRivalDrawIsDrawnAgain) {
  // 3 * 2^30 choices: multiply-shift products whose low half is below 2^30 are rejected.
  const std::uint32_t n = 3 * (1u << 30) + 1;
  const auto redraw = [](std::uint64_t element) {
    return std::uint64_t{static_cast<std::uint32_t>(kRivals.bits(element + (std::uint64_t{1} << 56)) >> 32)} * (n - 1);
  };
  std::uint64_t element = 99;
  while (static_cast<std::uint32_t>(redraw(element)) < (1u << 30)) ++element;  // the redraw itself is accepted
  const auto draw = static_cast<std::uint32_t>(redraw(element) >> 32);
  const std::uint32_t j = 5;
  EXPECT_EQ(rival_of(0, j, n, kRivals, element), draw + (draw >= j));  // bits 0: product 0, rejected
}

TEST(RankKeep, VectorBodiesHandARejectedDrawToTheScalarOne) {
  // Find an element whose rival draw a row of 2048 rejects (low half of the product below
  // 2^32 mod 2047 = 1024: one in four million), and put it in the band.
  const std::uint32_t n = 2048, choices = n - 1, reject_below = (0u - choices) % choices;
  std::uint64_t element = 0;
  while (static_cast<std::uint32_t>(std::uint64_t{kRivals.draw_bits(element)} * choices) >= reject_below) ++element;
  const std::uint64_t j = 1000, first = element - j;
  Draws draws;
  std::vector<float> row(n);
  for (float& x : row) x = draws.uniform() - 0.5f;
  std::vector<float> u = draws.uniforms(n);
  u[j] = 0.5f;
  EXPECT_EQ(kept(row, u, della(n, 0.1), first), reference(row, u, della(n, 0.1), first));
}

// The one sweep from the inputs' bytes gives the row, the sums and the bits of the steps it
// fuses: converting, drawing, then keep_by_rank with a tally. Rows of odd length start at odd
// elements (the draws' words straddle the vectors there), tails are partial vectors, and some
// elements are +0 or -0.
TEST(RankKeep, TheFusedSweepFromBytesMatchesTheSteps) {
  if (!lanes_are_fused()) GTEST_SKIP() << "no fused path on this machine";
  const CounterRng draws(11, "draws");
  Draws values;
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{15}, std::size_t{37}, std::size_t{2048}})
      for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{4096}})
        for (const double epsilon : {0.1, 0.0, -0.2}) {
          SCOPED_TRACE(testing::Message() << dtype_name(dtype) << " n " << n << " first " << first << " epsilon "
                                          << epsilon);
          std::vector<float> x(n), b(n);
          for (std::size_t j = 0; j < n; ++j) {
            b[j] = values.uniform() - 0.5f;
            x[j] = j % 9 == 0 ? b[j] : b[j] + 0.01f * (values.uniform() - 0.5f);  // +0: x = b
          }
          if (n > 3) x[3] = -0.0f, b[3] = 0.0f;  // -0
          std::vector<std::byte> xs(n * dtype_size(dtype)), bs(xs.size());
          from_f32(dtype, x.data(), xs.data(), n);
          from_f32(dtype, b.data(), bs.data(), n);
          const RankProbability p = n > 1 ? della(n, epsilon) : RankProbability{0.5, 0.0};

          std::vector<float> want(n), u(n);
          delta_lanes(xs.data(), bs.data(), dtype, n, want.data());
          draws.fill_draws(first, u.data(), n);
          std::vector<std::uint32_t> work(rank_keep_work_size(n));
          LaneSum want_before, want_after, before, after;
          std::vector<std::uint8_t> want_bits(bitmask_bytes(first + n), 0), bits(want_bits.size(), 0);
          const KeepTally want_tally{&want_before, &want_after, want_bits.data()};
          keep_by_rank(want, u, p, kRivals, first, work, &want_tally);

          std::vector<float> row(n, 7.0f);
          const KeepTally tally{&before, &after, bits.data()};
          keep_by_rank_lanes(xs.data(), bs.data(), dtype, row, p, draws, kRivals, first, work, tally);
          for (std::size_t j = 0; j < n; ++j)
            ASSERT_EQ(std::bit_cast<std::uint32_t>(row[j]), std::bit_cast<std::uint32_t>(want[j])) << j;
          EXPECT_EQ(std::bit_cast<std::uint64_t>(before.value()), std::bit_cast<std::uint64_t>(want_before.value()));
          EXPECT_EQ(std::bit_cast<std::uint64_t>(after.value()), std::bit_cast<std::uint64_t>(want_after.value()));
          EXPECT_EQ(bits, want_bits);
        }
}

}  // namespace
}  // namespace weld
