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

namespace weld {
namespace {

TEST(CounterRng, FillDrawsGivesTheValuesOfDrawFromAnyStart) {
  const CounterRng rng(7, "draws");
  for (std::uint64_t first : {0ull, 1ull, 123456789ull, 123456790ull})
    for (std::size_t n : {0u, 1u, 2u, 31u, 1000u}) {
      std::vector<float> out(n);
      rng.fill_draws(first, out.data(), n);
      for (std::size_t j = 0; j < n; ++j) ASSERT_EQ(out[j], rng.draw(first + j)) << first << " + " << j;
    }
}

TEST(CounterRng, FillDrawBitsGivesTheBitsDrawTakesItsValueFrom) {
  const CounterRng rng(7, "draws");
  for (std::uint64_t first : {0ull, 1ull, 123456789ull, 123456790ull})
    for (std::size_t n : {0u, 1u, 2u, 31u, 1000u}) {
      std::vector<std::uint32_t> out(n);
      rng.fill_draw_bits(first, out.data(), n);
      for (std::size_t j = 0; j < n; ++j) {
        ASSERT_EQ(out[j], rng.draw_bits(first + j)) << first << " + " << j;
        ASSERT_EQ(static_cast<float>(out[j] >> 8) / 16777216.0f, rng.draw(first + j)) << first << " + " << j;
      }
    }
}

TEST(CounterRng, FillDrawBitsAtGivesTheBitsOfEachScatteredCounter) {
  const CounterRng rng(7, "draws");
  // Odd and even counters, repeats and far ones, in an order of their own; lengths around a
  // vector of 16.
  std::vector<std::uint32_t> offsets;
  for (std::uint32_t k = 0; k < 40; ++k) offsets.push_back((k * 2654435761u) % 4099u);
  offsets.push_back(offsets[3]);
  offsets.push_back(0xffffffffu);
  for (std::uint64_t first : {0ull, 1ull, 123456789ull, (1ull << 40) + 1})
    for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 42u}) {
      std::vector<std::uint32_t> out(n, 0xdeadbeefu);
      rng.fill_draw_bits_at(first, offsets.data(), n, out.data());
      for (std::size_t k = 0; k < n; ++k)
        ASSERT_EQ(out[k], rng.draw_bits(first + offsets[k])) << first << " + " << offsets[k];
    }
}

// At how many of the first 1000 counters two streams agree, in the values `value` reads.
template <class Value>
int agreements(const CounterRng& a, const CounterRng& b, const Value& value) {
  int same = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) same += value(a, i) == value(b, i);
  return same;
}

std::uint32_t stream_bits_at(const CounterRng& rng, std::uint64_t i) { return rng.draw_bits(i); }
float stream_draw_at(const CounterRng& rng, std::uint64_t i) { return rng.draw(i); }

TEST(CounterRng, ASubstreamIsUnrelatedToItsParentAndNamedOnes) {
  const CounterRng a(1, "t#1"), b = a.substream("rivals"), c = a.substream("other");
  EXPECT_EQ(agreements(a, b, stream_bits_at), 0);  // 32-bit values agree by chance once in 2^32
  EXPECT_EQ(agreements(b, c, stream_bits_at), 0);
  EXPECT_EQ(b.draw_bits(5), CounterRng(1, "t#1").substream("rivals").draw_bits(5));
}

TEST(CounterRng, DrawLanesGivesTheValuesOfDrawFromAnyStart) {
  const CounterRng rng(7, "draws");
  for (std::uint64_t first : {0ull, 1ull, 16ull, 123456789ull, 123456790ull, (1ull << 40) + 2}) {
    Lanes lanes;
    rng.draw_lanes(first, lanes);
    for (std::size_t j = 0; j < kLaneWidth; ++j) ASSERT_EQ(lanes[j], rng.draw(first + j)) << first << " + " << j;
  }
}

TEST(CounterRng, LaneDrawsStepsThroughTheDrawsFromAnEvenStart) {
  const CounterRng rng(7, "draws");
  for (std::uint64_t first : {0ull, 2ull, 123456790ull, (1ull << 40) + 2, ~0ull - 63}) {
    CounterRng::LaneDraws draws(rng, first);
    for (std::uint64_t step = 0; step < 4; ++step) {
      Lanes lanes;
      draws.next(lanes);
      for (std::size_t j = 0; j < kLaneWidth; ++j) {
        const std::uint64_t i = first + step * kLaneWidth + j;
        ASSERT_EQ(lanes[j], rng.draw(i)) << first << " step " << step << " + " << j;
      }
    }
  }
}

TEST(CounterRng, DrawBitsLanesGivesTheValuesOfDrawBitsFromAnyStart) {
  const CounterRng rng(7, "draws");
  for (std::uint64_t first : {0ull, 1ull, 16ull, 123456789ull, (1ull << 40) + 2}) {
    CounterRng::DrawBits lanes;
    rng.draw_bits_lanes(first, lanes);
    for (std::size_t j = 0; j < kLaneWidth; ++j) ASSERT_EQ(lanes[j], rng.draw_bits(first + j)) << first << " + " << j;
  }
}

// The fused kernels test draw_bits(i) <= last_kept_bits(keep) for draw(i) < keep: the same
// answer on either side of every boundary, for keeps on the draws' grid and between them.
TEST(CounterRng, LastKeptBitsKeepsExactlyTheDrawsBelowKeep) {
  const auto draw_of = [](std::uint32_t bits) { return static_cast<float>(bits >> 8) * (1.0f / 16777216.0f); };
  const float on_grid = 3.0f / 16777216.0f;
  for (const float keep : {0.5f, 0.3f, 1e-30f, on_grid, std::nextafter(on_grid, 1.0f), std::nextafter(on_grid, 0.0f),
                           std::nextafter(1.0f, 0.0f), 1.0f}) {
    const std::uint32_t last = CounterRng::last_kept_bits(keep);
    EXPECT_LT(draw_of(last), keep) << keep;
    if (last != ~std::uint32_t{0}) {
      EXPECT_GE(draw_of(last + 1), keep) << keep;
    }
    const CounterRng rng(11, "keep");
    for (std::uint64_t i = 0; i < 4096; ++i)
      ASSERT_EQ(rng.draw_bits(i) <= last, rng.draw(i) < keep) << "keep " << keep << " counter " << i;
  }
  EXPECT_EQ(CounterRng::last_kept_bits(1.0f), ~std::uint32_t{0});  // every draw is below 1
  EXPECT_EQ(CounterRng::last_kept_bits(1e-30f), 255u);              // only draws of 0
}

// Both halves of a word are fair coins for any keep probability, and independent of each
// other and of the next word's halves: the sparsifiers draw neighbouring elements from them.
TEST(CounterRng, DrawsAreUniformAndNeighboursIndependent) {
  const CounterRng rng(3, "model.layers.0.mlp.up_proj.weight#1");
  const int n = 1000000;
  double sum = 0;
  int below_quarter = 0, both_below_half = 0, across_words_below_half = 0;
  for (int i = 0; i < n; ++i) {
    const auto c = static_cast<std::uint64_t>(i);
    const float u = rng.draw(c), next = rng.draw(c + 1);
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += u;
    below_quarter += u < 0.25f;
    if (i % 2 == 0) both_below_half += u < 0.5f && next < 0.5f;
    else across_words_below_half += u < 0.5f && next < 0.5f;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.002);
  EXPECT_NEAR(below_quarter / static_cast<double>(n), 0.25, 0.002);
  EXPECT_NEAR(both_below_half / (n / 2.0), 0.25, 0.003);
  EXPECT_NEAR(across_words_below_half / (n / 2.0), 0.25, 0.003);
}

TEST(CounterRng, DrawsDependOnSeedAndKey) {
  const CounterRng a(1, "t#1"), other_seed(2, "t#1"), other_key(1, "t#2");
  EXPECT_LE(agreements(a, other_seed, stream_draw_at), 2);  // 24-bit values agree by chance once in 2^24
  EXPECT_LE(agreements(a, other_key, stream_draw_at), 2);
}

}  // namespace
}  // namespace weld
