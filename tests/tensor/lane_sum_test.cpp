#include "tensor/lane_sum.h"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

namespace weld {
namespace {

double sum_in_pieces(const std::vector<double>& terms, const std::vector<std::size_t>& pieces) {
  LaneSum sum;
  std::size_t first = 0;
  for (std::size_t n : pieces) {
    sum.add(n, [&](std::size_t j) { return terms[first + j]; });
    first += n;
  }
  sum.add(terms.size() - first, [&](std::size_t j) { return terms[first + j]; });
  return sum.value();
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(LaneSum, TermsGoToLanesByPositionAndLanesAddInOrder) {
  // Lane 0 gets 1e17 then 1, lane 1 gets -1e17 then 1; each 1 is lost to rounding in its
  // lane (1e17 +- 1 rounds back), so the lanes sum to 0. Left to right gives 2.
  std::vector<double> terms(16, 0.0);
  terms[0] = 1e17;
  terms[1] = -1e17;
  terms[8] = 1.0;
  terms[9] = 1.0;
  EXPECT_EQ(sum_in_pieces(terms, {}), 0.0);
  double left_to_right = 0.0;
  for (double t : terms) left_to_right += t;
  EXPECT_EQ(left_to_right, 2.0);
}

TEST(LaneSum, SmallSumsAreExact) {
  std::vector<double> terms;
  for (int i = 1; i <= 100; ++i) terms.push_back(i);
  EXPECT_EQ(sum_in_pieces(terms, {}), 5050.0);
  EXPECT_EQ(sum_in_pieces({}, {}), 0.0);
}

TEST(LaneSum, CuttingTheSequenceIntoPiecesChangesNoBit) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> value(0.0, 1e3);
  std::vector<double> terms(1000);
  for (double& t : terms) t = value(rng);
  const double whole = sum_in_pieces(terms, {});
  for (const std::vector<std::size_t>& pieces :
       {std::vector<std::size_t>{1, 2, 3, 5, 8, 13}, {7, 7, 7, 300}, {999}, {0, 1, 0, 64, 3}}) {
    EXPECT_TRUE(same_bits(sum_in_pieces(terms, pieces), whole));
  }
}

TEST(LaneSum, SumsAdvancedTogetherMatchEachAddedAlone) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> value(0.0, 1e3);
  std::vector<double> a(1000), b(1000);
  for (double& t : a) t = value(rng);
  for (double& t : b) t = value(rng);
  // Pieces of every length mod 8, so that add_together starts at every lane and ends mid-group.
  for (const std::vector<std::size_t>& pieces :
       {std::vector<std::size_t>{1, 2, 3, 5, 8, 13}, {7, 7, 7, 300}, {999}, {0, 1, 0, 64, 3}}) {
    LaneSum together_a, together_b, alone_a, alone_b;
    std::size_t first = 0;
    const auto piece = [&](std::size_t n) {
      add_together(n, std::array{&together_a, &together_b},
                   [&](std::size_t j) { return std::array{a[first + j], b[first + j]}; });
      alone_a.add(n, [&](std::size_t j) { return a[first + j]; });
      alone_b.add(n, [&](std::size_t j) { return b[first + j]; });
      first += n;
    };
    for (std::size_t n : pieces) piece(n);
    piece(a.size() - first);
    EXPECT_TRUE(same_bits(together_a.value(), alone_a.value()));
    EXPECT_TRUE(same_bits(together_b.value(), alone_b.value()));
    EXPECT_TRUE(same_bits(together_a.value(), sum_in_pieces(a, {})));
  }
}

TEST(LaneSum, AKernelAddingByTurnedLanesMatchesAdd) {
  std::mt19937_64 rng(13);
  std::normal_distribution<double> value(0.0, 1e3);
  std::vector<double> terms(200);
  for (double& t : terms) t = value(rng);
  // A first piece of every length mod 8, then a kernel's piece, then the rest.
  for (std::size_t lead = 0; lead < 9; ++lead) {
    const std::size_t by_kernel = 21 + lead;
    LaneSum sum;
    sum.add(lead, [&](std::size_t j) { return terms[j]; });
    sum.add_by(by_kernel, [&](double* lanes) {
      for (std::size_t j = 0; j < by_kernel; ++j) lanes[j % LaneSum::kLanes] += terms[lead + j];
    });
    const std::size_t first = lead + by_kernel;
    sum.add(terms.size() - first, [&](std::size_t j) { return terms[first + j]; });
    EXPECT_TRUE(same_bits(sum.value(), sum_in_pieces(terms, {}))) << "lead " << lead;
  }
}

}  // namespace
}  // namespace weld
