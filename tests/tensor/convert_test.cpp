#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tensor/convert.h"
#include "tensor/rng.h"

namespace weld {
namespace {

float from_bits(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

std::uint32_t to_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

TEST(Bf16, HandComputedRounding) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808000)), 0x3f80);  // tie, even lsb: down
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f818000)), 0x3f82);  // tie, odd lsb: up to even
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808001)), 0x3f81);  // above the tie: up
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f807fff)), 0x3f80);  // below the tie: down
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // overflows to +Inf
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(f32_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_bf16(from_bits(0x00000001)), 0x0000);  // the smallest subnormal rounds to 0
  EXPECT_EQ(f32_to_bf16(from_bits(0x7f800001)), 0x7fc0);  // signalling NaN becomes quiet, not Inf
  EXPECT_EQ(f32_to_bf16(from_bits(0xffc00000)), 0xffc0);  // NaN keeps its sign
  EXPECT_EQ(bf16_to_f32(0x4049), from_bits(0x40490000));
}

TEST(F16, HandComputedRounding) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);  // largest finite
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // the tie with 2^16 goes to even: Inf
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14)), 0x0400);  // smallest normal
  EXPECT_EQ(f32_to_f16(std::ldexp(1023.0f, -24)), 0x03ff);  // largest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // half of it: tie to even 0
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -26)), 0x0001);  // 0.75 of it: up
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 of it: tie to even 2
  EXPECT_EQ(f32_to_f16(std::ldexp(2047.0f, -25)), 0x0400);  // rounds up into the normals
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie at 1: even
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie at odd: up
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f32_to_f16(from_bits(0x7f800001)), 0x7e00);  // NaN stays NaN, quiet
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7c01)));
}

// Every 16-bit pattern survives the trip through f32 (NaNs as NaNs of the same sign).
TEST(Conversions, EverySixteenBitPatternRoundTrips) {
  for (std::uint32_t h = 0; h <= 0xffff; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    const float b = bf16_to_f32(bits), f = f16_to_f32(bits);
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(b))));
    } else {
      EXPECT_EQ(f32_to_bf16(b), bits) << std::hex << h;
    }
    if (std::isnan(f)) {
      EXPECT_EQ(f32_to_f16(f) & 0xfe00, (bits & 0x8000) | 0x7e00) << std::hex << h;
    } else {
      EXPECT_EQ(f32_to_f16(f), bits) << std::hex << h;
    }
  }
}

// Random f32 between two neighbouring bf16 values round to the nearer, ties to even. (Below
// the top binade, where the upper neighbour would be Inf; overflow is a hand case above.)
TEST(Bf16, RoundsToTheNearestNeighbour) {
  const CounterRng rng(3, "bf16");
  for (std::uint64_t i = 0; i < 200000; ++i) {
    const float x = from_bits(static_cast<std::uint32_t>(rng.bits(i)) & 0x7effffff);
    const std::uint16_t r = f32_to_bf16(x);
    const double below = bf16_to_f32(static_cast<std::uint16_t>(to_bits(x) >> 16));
    const double above = bf16_to_f32(static_cast<std::uint16_t>((to_bits(x) >> 16) + 1));
    const double d_below = x - below, d_above = above - x;
    const std::uint16_t expected = d_below < d_above   ? static_cast<std::uint16_t>(to_bits(x) >> 16)
                                   : d_below > d_above ? static_cast<std::uint16_t>((to_bits(x) >> 16) + 1)
                                   : ((to_bits(x) >> 16) & 1) ? static_cast<std::uint16_t>((to_bits(x) >> 16) + 1)
                                                              : static_cast<std::uint16_t>(to_bits(x) >> 16);
    ASSERT_EQ(r, expected) << x;
  }
}

std::vector<float> awkward_floats(std::size_t n) {
  const CounterRng rng(5, "awkward");
  std::vector<float> v(n);
  const std::uint32_t specials[] = {0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00001, 0x00000001,
                                    0x80000001, 0x477ff000, 0x477fefff, 0x33000000, 0x3f808000, 0x387fe000};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t r = rng.bits(i);
    if (r % 8 == 0) {
      v[i] = from_bits(specials[(r >> 8) % std::size(specials)]);
    } else if (r % 8 == 1) {  // in and around the f16 range
      v[i] = std::ldexp(rng.uniform(i) - 0.5f, static_cast<int>((r >> 16) % 50) - 30);
    } else {
      v[i] = from_bits(static_cast<std::uint32_t>(r >> 32));
    }
  }
  return v;
}

void expect_same_bits(const std::vector<std::byte>& a, const std::vector<std::byte>& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size()), 0);
}

// The vector paths give the reference's bits: long runs, every tail length, misaligned.
TEST(Conversions, BulkPathsMatchTheReference) {
  const std::vector<float> values = awkward_floats(1 << 20);
  for (DType type : {DType::kBF16, DType::kF16, DType::kF32}) {
    const std::size_t size = dtype_size(type);
    for (std::size_t offset : {0u, 1u, 3u}) {
      for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{15},
                            std::size_t{16}, std::size_t{17}, std::size_t{67}, values.size() - 3}) {
        std::vector<std::byte> fast(n * size + 8), ref(n * size + 8);
        from_f32(type, values.data() + offset, fast.data() + offset, n);
        from_f32_ref(type, values.data() + offset, ref.data() + offset, n);
        expect_same_bits(fast, ref);
        std::vector<float> back_fast(n + 4), back_ref(n + 4);
        to_f32(type, ref.data() + offset, back_fast.data() + 1, n);
        to_f32_ref(type, ref.data() + offset, back_ref.data() + 1, n);
        EXPECT_EQ(std::memcmp(back_fast.data(), back_ref.data(), back_fast.size() * sizeof(float)), 0)
            << dtype_name(type) << " n=" << n;
      }
    }
  }
}

TEST(Conversions, RoundThroughIsTheCastOnLoad) {
  std::vector<float> v = {1.0f + std::ldexp(1.0f, -8), 1.0f + std::ldexp(3.0f, -8), 3.0f};
  round_through(DType::kBF16, v.data(), v.size());
  EXPECT_EQ(v[0], 1.0f);                            // tie to even
  EXPECT_EQ(v[1], 1.0f + std::ldexp(1.0f, -6));     // tie to even, upwards
  EXPECT_EQ(v[2], 3.0f);
  std::vector<float> f = {70000.0f};
  round_through(DType::kF16, f.data(), f.size());
  EXPECT_TRUE(std::isinf(f[0]));
}

}  // namespace
}  // namespace weld
