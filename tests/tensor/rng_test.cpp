#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "tensor/rng.h"

namespace weld {
namespace {

TEST(CounterRng, ValuesDependOnSeedKeyAndCounterOnly) {
  const CounterRng a(1, "model.layers.0.mlp.up_proj.weight#1");
  const CounterRng same(1, "model.layers.0.mlp.up_proj.weight#1");
  const CounterRng other_seed(2, "model.layers.0.mlp.up_proj.weight#1");
  const CounterRng other_key(1, "model.layers.0.mlp.up_proj.weight#2");
  int differ_seed = 0, differ_key = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(a.bits(i), same.bits(i));
    differ_seed += a.bits(i) != other_seed.bits(i);
    differ_key += a.bits(i) != other_key.bits(i);
  }
  EXPECT_EQ(differ_seed, 1000);
  EXPECT_EQ(differ_key, 1000);
}

TEST(CounterRng, UniformIsInTheUnitIntervalWithMeanOneHalf) {
  const CounterRng rng(7, "u");
  double sum = 0;
  const int n = 1000000;
  for (int i = 0; i < n; ++i) {
    const float u = rng.uniform(static_cast<std::uint64_t>(i));
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.002);
}

TEST(CounterRng, NormalHasMeanZeroAndVarianceOne) {
  const CounterRng rng(7, "n");
  double sum = 0, sum_sq = 0;
  const int n = 1000000;
  for (int i = 0; i < n; ++i) {
    const double x = rng.normal(static_cast<std::uint64_t>(i));
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sum_sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);
  EXPECT_NEAR(sum_sq / n - (sum / n) * (sum / n), 1.0, 0.01);
}

TEST(CounterRng, NeighbouringCountersLookIndependent) {
  const CounterRng rng(0, "");
  std::uint64_t set_bits = 0, agreeing_bits = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t x = rng.bits(static_cast<std::uint64_t>(i)), y = rng.bits(static_cast<std::uint64_t>(i) + 1);
    set_bits += static_cast<std::uint64_t>(std::popcount(x));
    agreeing_bits += static_cast<std::uint64_t>(std::popcount(~(x ^ y)));
  }
  EXPECT_NEAR(static_cast<double>(set_bits) / (64.0 * n), 0.5, 0.002);
  EXPECT_NEAR(static_cast<double>(agreeing_bits) / (64.0 * n), 0.5, 0.002);
}

TEST(HashString, IsFnv1a) {
  EXPECT_EQ(hash_string(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(hash_string("a"), 0xaf63dc4c8601ec8cull);
}

}  // namespace
}  // namespace weld

namespace weld {
namespace {

TEST(CounterRng, FillUniformGivesTheValuesOfUniform) {
  const CounterRng rng(7, "fill");
  std::vector<float> out(1000);
  rng.fill_uniform(123456789, out.data(), out.size());
  for (std::size_t j = 0; j < out.size(); ++j) ASSERT_EQ(out[j], rng.uniform(123456789 + j)) << j;
}

}  // namespace
}  // namespace weld
