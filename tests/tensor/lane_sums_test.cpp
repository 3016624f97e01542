#include "tensor/lane_sums.h"

#include <gtest/gtest.h>

#include <vector>

#include "tensor/convert.h"
#include "tensor/rng.h"

namespace weld {
namespace {

// Two sums of two inputs: x * y and x - y, in double.
struct ProductAndDifference {
  [[gnu::always_inline]] void operator()(const Lanes* x, DoubleLanes* t) const {
    const DoubleLanes a = __builtin_convertvector(x[0], DoubleLanes), b = __builtin_convertvector(x[1], DoubleLanes);
    t[0] = a * b;
    t[1] = a - b;
  }
};

// add_lane_sums over pieces of `cuts` elements gives LaneSum::add's sums of the same terms,
// bit for bit, whether the pieces leave the sums between lanes or not.
void expect_matches_lane_sum(DType dtype, const std::vector<std::size_t>& cuts) {
  std::size_t n = 0;
  for (std::size_t cut : cuts) n += cut;
  const CounterRng rng(7, "lane sums");
  std::vector<float> x(n), y(n);
  for (std::size_t j = 0; j < n; ++j) {
    x[j] = rng.normal(2 * j);
    y[j] = rng.normal(2 * j + 1);
  }
  std::vector<std::byte> x_bytes(n * dtype_size(dtype)), y_bytes(x_bytes.size());
  from_f32(dtype, x.data(), x_bytes.data(), n);
  from_f32(dtype, y.data(), y_bytes.data(), n);
  to_f32(dtype, x_bytes.data(), x.data(), n);  // the values the bytes hold
  to_f32(dtype, y_bytes.data(), y.data(), n);

  LaneSum want_product, want_difference;
  want_product.add(n, [&](std::size_t j) { return double{x[j]} * y[j]; });
  want_difference.add(n, [&](std::size_t j) { return double{x[j]} - y[j]; });
  LaneSum product, difference;
  std::size_t first = 0;
  for (std::size_t cut : cuts) {
    const std::byte* at[] = {x_bytes.data() + first * dtype_size(dtype), y_bytes.data() + first * dtype_size(dtype)};
    add_lane_sums<2>(LaneSpan{at, nullptr, cut, dtype}, std::array{&product, &difference}, ProductAndDifference{});
    first += cut;
  }
  EXPECT_EQ(product.value(), want_product.value()) << dtype_name(dtype);
  EXPECT_EQ(difference.value(), want_difference.value()) << dtype_name(dtype);
}

TEST(LaneSums, MatchLaneSumToTheBit) {
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    expect_matches_lane_sum(dtype, {4096});
    expect_matches_lane_sum(dtype, {3, 1000, 5, 16, 31, 2000, 1});
  }
}

TEST(LaneSums, NoElementsAddNothing) {
  LaneSum sum;
  const std::byte* at[] = {nullptr, nullptr};
  LaneSum other;
  add_lane_sums<2>(LaneSpan{at, nullptr, 0, DType::kF32}, std::array{&sum, &other}, ProductAndDifference{});
  EXPECT_EQ(sum.value(), 0.0);
  EXPECT_NE(sum.lanes_at_first(), nullptr);
}

}  // namespace
}  // namespace weld
