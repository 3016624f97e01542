#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "support/isas.h"
#include "tensor/convert.h"
#include "tensor/convert_x86.h"
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

// The bulk conversions as convert.cpp composes them, on a chosen instruction set.
void to_f32_on(x86::Isa isa, DType type, const std::byte* in, float* out, std::size_t n) {
  const std::size_t done = type == DType::kBF16  ? x86::bf16_to_f32(in, out, n, isa)
                           : type == DType::kF16 ? x86::f16_to_f32(in, out, n, isa)
                                                 : 0;
  to_f32_ref(type, in + done * dtype_size(type), out + done, n - done);
}

void from_f32_on(x86::Isa isa, DType type, const float* in, std::byte* out, std::size_t n) {
  const std::size_t done = type == DType::kBF16  ? x86::f32_to_bf16(in, out, n, isa)
                           : type == DType::kF16 ? x86::f32_to_f16(in, out, n, isa)
                                                 : 0;
  from_f32_ref(type, in + done, out + done * dtype_size(type), n - done);
}

// Narrows values[offset, offset + n) on every instruction set and through the public entry
// points, and compares with the reference; then widens the reference's bytes the same ways.
// The narrow side starts `offset` bytes into its buffer, so odd offsets give odd addresses.
// Bytes around the range must stay untouched.
void expect_bulk_matches_reference(DType type, const std::vector<float>& values, std::size_t n,
                                   std::size_t offset) {
  const std::size_t size = dtype_size(type);
  std::vector<std::byte> ref(n * size + 8, std::byte{0x5a});
  from_f32_ref(type, values.data() + offset, ref.data() + offset, n);
  std::vector<float> back_ref(n + 4, 7.0f);
  to_f32_ref(type, ref.data() + offset, back_ref.data() + offset, n);
  const auto check = [&](const auto& narrow, const auto& widen, const char* path) {
    std::vector<std::byte> fast(ref.size(), std::byte{0x5a});
    narrow(values.data() + offset, fast.data() + offset);
    ASSERT_EQ(std::memcmp(fast.data(), ref.data(), fast.size()), 0)
        << path << ' ' << dtype_name(type) << " n=" << n << " offset=" << offset;
    std::vector<float> back(back_ref.size(), 7.0f);
    widen(ref.data() + offset, back.data() + offset);
    ASSERT_EQ(std::memcmp(back.data(), back_ref.data(), back.size() * sizeof(float)), 0)
        << path << ' ' << dtype_name(type) << " n=" << n << " offset=" << offset;
  };
  check([&](const float* in, std::byte* out) { from_f32(type, in, out, n); },
        [&](const std::byte* in, float* out) { to_f32(type, in, out, n); }, "dispatched");
  for (x86::Isa isa : test::runnable_isas()) {
    check([&](const float* in, std::byte* out) { from_f32_on(isa, type, in, out, n); },
          [&](const std::byte* in, float* out) { to_f32_on(isa, type, in, out, n); },
          isa == x86::Isa::kAvx512 ? "avx512"
          : isa == x86::Isa::kAvx2 ? "avx2"
                                   : "scalar");
  }
}

constexpr DType kArithmeticTypes[] = {DType::kBF16, DType::kF16, DType::kF32};

// The vector paths give the reference's bits on a long run of awkward values.
TEST(Conversions, BulkPathsMatchTheReferenceOnMillionsOfValues) {
  const std::vector<float> values = awkward_floats(std::size_t{1} << 22);
  for (DType type : kArithmeticTypes) {
    expect_bulk_matches_reference(type, values, values.size() - 3, 0);
    expect_bulk_matches_reference(type, values, values.size() - 3, 3);
  }
}

// Every tail length a vector path can leave (up to 4 vectors of 16 and a remainder), from
// aligned and misaligned starts.
TEST(Conversions, BulkPathsMatchTheReferenceOnEveryShortLength) {
  const std::vector<float> values = awkward_floats(256);
  for (DType type : kArithmeticTypes) {
    for (std::size_t n = 0; n <= 67; ++n) {
      for (std::size_t offset : {0, 1, 2, 3})
        expect_bulk_matches_reference(type, values, n, offset);
    }
  }
}

// All 65536 patterns widen through the bulk path as through the reference, and narrow back to
// themselves (NaNs to a quiet NaN of the same sign).
TEST(Conversions, BulkPathsRoundTripEverySixteenBitPattern) {
  constexpr std::size_t kPatterns = 1 << 16;
  std::vector<std::byte> patterns(kPatterns * 2);
  for (std::size_t h = 0; h < kPatterns; ++h) {
    const auto bits = static_cast<std::uint16_t>(h);
    std::memcpy(patterns.data() + 2 * h, &bits, sizeof bits);
  }
  for (DType type : {DType::kBF16, DType::kF16}) {
    std::vector<float> fast(kPatterns), ref(kPatterns);
    to_f32_ref(type, patterns.data(), ref.data(), kPatterns);
    for (x86::Isa isa : test::runnable_isas()) {
      to_f32_on(isa, type, patterns.data(), fast.data(), kPatterns);
      ASSERT_EQ(std::memcmp(fast.data(), ref.data(), kPatterns * sizeof(float)), 0)
          << dtype_name(type);
    }
    to_f32(type, patterns.data(), fast.data(), kPatterns);
    ASSERT_EQ(std::memcmp(fast.data(), ref.data(), kPatterns * sizeof(float)), 0)
        << dtype_name(type);
    std::vector<std::byte> back(kPatterns * 2);
    from_f32(type, fast.data(), back.data(), kPatterns);
    for (std::size_t h = 0; h < kPatterns; ++h) {
      std::uint16_t b;
      std::memcpy(&b, back.data() + 2 * h, sizeof b);
      if (std::isnan(fast[h])) {
        EXPECT_TRUE(std::isnan(type == DType::kBF16 ? bf16_to_f32(b) : f16_to_f32(b)))
            << std::hex << h;
        EXPECT_EQ(b & 0x8000, h & 0x8000) << std::hex << h;
      } else {
        ASSERT_EQ(b, h) << dtype_name(type) << std::hex << " 0x" << h;
      }
    }
  }
}

// round_through (chunked through the vector paths) is the scalar narrow-then-widen.
TEST(Conversions, RoundThroughMatchesTheReference) {
  const std::vector<float> values = awkward_floats(5000);  // several chunks and a partial one
  for (DType type : kArithmeticTypes) {
    std::vector<float> rounded = values;
    round_through(type, rounded.data(), rounded.size());
    std::vector<std::byte> narrow(values.size() * dtype_size(type));
    std::vector<float> expected(values.size());
    from_f32_ref(type, values.data(), narrow.data(), values.size());
    to_f32_ref(type, narrow.data(), expected.data(), values.size());
    EXPECT_EQ(std::memcmp(rounded.data(), expected.data(), values.size() * sizeof(float)), 0)
        << dtype_name(type);
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
