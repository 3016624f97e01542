#include "tensor/masked_delta.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <vector>

#include "support/isas.h"
#include "tensor/convert.h"
#include "tensor/bitmask.h"

namespace weld {
namespace {

constexpr std::size_t kN = 203;  // whole vectors of both widths and a tail
constexpr float kKeep = 0.5f;
// Pieces of the tensor, as tiles would hand them over: they start and end inside bytes.
constexpr std::size_t kCuts[] = {0, 3, 21, 40, 137, kN};

struct TaskVector {
  std::vector<float> x, b, u;
};

// Values with the cases that matter: x == b (d = +0), d = -0, NaN, infinity, subnormals.
TaskVector task_vector() {
  TaskVector t{std::vector<float>(kN), std::vector<float>(kN), std::vector<float>(kN)};
  for (std::size_t i = 0; i < kN; ++i) {
    t.b[i] = std::sin(static_cast<float>(i)) * 0.02f;
    t.x[i] = t.b[i] + std::cos(static_cast<float>(3 * i)) * 0.002f;
    t.u[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
  }
  // Each case in a scalar head and inside the vector bodies' range.
  for (std::size_t at : {0u, 50u, 150u}) {
    t.x[at + 5] = t.b[at + 5];                                 // d = +0, kept: its bit stays clear
    t.x[at + 6] = -0.0f, t.b[at + 6] = 0.0f;                   // d = -0: its bit is set when kept
    t.x[at + 40] = std::numeric_limits<float>::infinity();
    t.x[at + 41] = std::numeric_limits<float>::denorm_min(), t.b[at + 41] = 0.0f;
    t.u[at + 5] = t.u[at + 6] = t.u[at + 41] = 0.1f;           // kept
    t.u[at + 40] = 0.9f;                                       // dropped
  }
  t.x[17] = std::numeric_limits<float>::quiet_NaN();  // NaN reaches both norms when kept
  t.u[17] = 0.1f;
  return t;
}

bool bit(const std::vector<std::uint8_t>& bits, std::size_t i) { return ((bits[i / 8] >> (i % 8)) & 1) != 0; }

// The definition, step by step: d = x - b; |d| to `before`; mask; |masked d| to `after`; bits.
struct L1Pass {
  double before;
  double after;
  std::vector<std::uint8_t> bits;
};

L1Pass by_steps(const TaskVector& t) {
  std::vector<float> d(kN);
  LaneSum before, after;
  for (std::size_t i = 0; i < kN; ++i) d[i] = t.x[i] - t.b[i];
  before.add(kN, [&](std::size_t i) { return std::abs(static_cast<double>(d[i])); });
  for (std::size_t i = 0; i < kN; ++i) d[i] = t.u[i] < kKeep ? d[i] : 0.0f;
  after.add(kN, [&](std::size_t i) { return std::abs(static_cast<double>(d[i])); });
  L1Pass pass{before.value(), after.value(), std::vector<std::uint8_t>(bitmask_bytes(kN), 0)};
  set_bits_of_nonzero(d, 0, pass.bits.data());
  return pass;
}

TEST(RandomKeepL1, GivesTheStepsNormsAndBitsOnEveryInstructionSet) {
  TaskVector t = task_vector();
  t.x[17] = 1.0f;  // NaN would make both norms NaN: it has a test of its own
  const L1Pass expected = by_steps(t);
  for (x86::Isa isa : test::runnable_isas())
    for (const bool with_bits : {true, false}) {  // without: the same norms, no bits written
      LaneSum before, after;
      std::vector<std::uint8_t> bits(bitmask_bytes(kN), 0);
      for (std::size_t p = 0; p + 1 < std::size(kCuts); ++p)
        random_keep_l1(t.x.data() + kCuts[p], t.b.data() + kCuts[p], t.u.data() + kCuts[p], kKeep, kCuts[p],
                       kCuts[p + 1] - kCuts[p], with_bits ? bits.data() : nullptr, before, after, isa);
      EXPECT_EQ(std::bit_cast<std::uint64_t>(before.value()), std::bit_cast<std::uint64_t>(expected.before))
          << static_cast<int>(isa) << with_bits;
      EXPECT_EQ(std::bit_cast<std::uint64_t>(after.value()), std::bit_cast<std::uint64_t>(expected.after))
          << static_cast<int>(isa) << with_bits;
      if (!with_bits) continue;
      EXPECT_EQ(bits, expected.bits) << static_cast<int>(isa);
      for (std::size_t at : {0u, 50u, 150u}) {
        EXPECT_FALSE(bit(bits, at + 5)) << at;  // kept, but d = +0
        EXPECT_TRUE(bit(bits, at + 6)) << at;   // kept, d = -0
        EXPECT_FALSE(bit(bits, at + 40)) << at;  // dropped
        EXPECT_TRUE(bit(bits, at + 41)) << at;   // kept subnormal
      }
    }
}

// From the inputs' bytes, drawing in registers: the sums and bits of the f32 kernel given the
// same values and the draws, in every dtype, cut where tiles and blocks would cut.
TEST(RandomKeepL1, LanesFromBytesGiveTheF32KernelsNormsAndBits) {
  TaskVector t = task_vector();
  t.x[17] = 1.0f;  // finite norms, so that they say something
  for (std::size_t at : {0u, 50u, 150u}) t.x[at + 40] = 1.0f;
  const CounterRng rng(3, "layer#1");
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32}) {
    std::vector<std::byte> x(kN * dtype_size(dtype)), b(kN * dtype_size(dtype));
    from_f32(dtype, t.x.data(), x.data(), kN);
    from_f32(dtype, t.b.data(), b.data(), kN);
    TaskVector seen{std::vector<float>(kN), std::vector<float>(kN), std::vector<float>(kN)};
    to_f32(dtype, x.data(), seen.x.data(), kN);
    to_f32(dtype, b.data(), seen.b.data(), kN);
    rng.fill_draws(0, seen.u.data(), kN);
    LaneSum want_before, want_after, before, after;
    std::vector<std::uint8_t> want_bits(bitmask_bytes(kN), 0), bits(bitmask_bytes(kN), 0);
    random_keep_l1(seen.x.data(), seen.b.data(), seen.u.data(), kKeep, 0, kN, want_bits.data(), want_before, want_after);
    const std::size_t size = dtype_size(dtype);
    for (std::size_t p = 0; p + 1 < std::size(kCuts); ++p)
      random_keep_l1_lanes(x.data() + kCuts[p] * size, b.data() + kCuts[p] * size, dtype, rng, kKeep, kCuts[p],
                           kCuts[p + 1] - kCuts[p], bits.data(), before, after);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(before.value()), std::bit_cast<std::uint64_t>(want_before.value()))
        << dtype_name(dtype);
    EXPECT_EQ(std::bit_cast<std::uint64_t>(after.value()), std::bit_cast<std::uint64_t>(want_after.value()))
        << dtype_name(dtype);
    EXPECT_EQ(bits, want_bits) << dtype_name(dtype);
  }
}

TEST(DeltaKeys, FromBytesAreTheKeysOfTheF32Differences) {
  const TaskVector t = task_vector();
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::uint32_t flip : {0u, 0xffffffffu}) {
      std::vector<std::byte> x(kN * dtype_size(dtype)), b(kN * dtype_size(dtype));
      from_f32(dtype, t.x.data(), x.data(), kN);
      from_f32(dtype, t.b.data(), b.data(), kN);
      std::vector<float> xs(kN), bs(kN);
      to_f32(dtype, x.data(), xs.data(), kN);
      to_f32(dtype, b.data(), bs.data(), kN);
      std::vector<std::uint32_t> keys(kN + 1, 7u);
      delta_keys_lanes(x.data(), b.data(), dtype, flip, kN, keys.data());
      for (std::size_t i = 0; i < kN; ++i)
        ASSERT_EQ(keys[i], (std::bit_cast<std::uint32_t>(xs[i] - bs[i]) & 0x7fffffffu) ^ flip)
            << dtype_name(dtype) << " " << i;
      EXPECT_EQ(keys[kN], 7u);  // nothing written past the end
    }
}

TEST(RandomKeepL1, NaNReachesBothNormsWhenKeptAndOnlyTheFirstWhenDropped) {
  for (const float u17 : {0.1f, 0.9f}) {
    TaskVector t = task_vector();
    t.u[17] = u17;
    for (std::size_t at : {0u, 50u, 150u}) t.x[at + 40] = 1.0f;  // no infinity: a norm without the NaN is finite
    for (x86::Isa isa : test::runnable_isas()) {
      LaneSum before, after;
      std::vector<std::uint8_t> bits(bitmask_bytes(kN), 0);
      random_keep_l1(t.x.data(), t.b.data(), t.u.data(), kKeep, 0, kN, bits.data(), before, after, isa);
      EXPECT_TRUE(std::isnan(before.value())) << static_cast<int>(isa);
      EXPECT_EQ(std::isnan(after.value()), u17 < kKeep) << static_cast<int>(isa);
      EXPECT_EQ(bit(bits, 17), u17 < kKeep) << static_cast<int>(isa);
    }
  }
}

// The definition of the merge pass's kernel, step by step.
std::vector<float> weighted_by_steps(const TaskVector& t, const std::uint8_t* bits, std::optional<float> scale,
                                     float weight) {
  std::vector<float> d(kN);
  for (std::size_t i = 0; i < kN; ++i) d[i] = t.x[i] - t.b[i];
  if (bits) zero_where_clear(d, 0, bits);
  for (float& v : d) {
    if (scale) v *= *scale;
    v *= weight;
  }
  return d;
}

TEST(MaskedWeightedDelta, GivesTheStepsBitsOnEveryInstructionSet) {
  const TaskVector t = task_vector();
  std::vector<std::uint8_t> bits(bitmask_bytes(kN), 0);
  for (std::size_t i = 0; i < kN; ++i)
    if (t.u[i] < kKeep) bits[i / 8] = static_cast<std::uint8_t>(bits[i / 8] | 1u << (i % 8));
  std::vector<float> earlier(kN);  // what Into::kAdd adds to
  for (std::size_t i = 0; i < kN; ++i) earlier[i] = i % 7 == 0 ? -0.0f : std::cos(static_cast<float>(i)) * 1e-3f;
  for (const Into into : {Into::kStore, Into::kAdd})
    for (const bool masked : {false, true})
      for (const std::optional<float> scale : {std::optional<float>(), std::optional(1.7f), std::optional(3e38f)}) {
        std::vector<float> expected = weighted_by_steps(t, masked ? bits.data() : nullptr, scale, -0.3f);
        if (into == Into::kAdd)
          for (std::size_t i = 0; i < kN; ++i) expected[i] = earlier[i] + expected[i];
        for (x86::Isa isa : test::runnable_isas()) {
          std::vector<float> out = earlier;
          for (std::size_t p = 0; p + 1 < std::size(kCuts); ++p)
            masked_weighted_delta(t.x.data() + kCuts[p], t.b.data() + kCuts[p], masked ? bits.data() : nullptr,
                                  kCuts[p], scale, -0.3f, out.data() + kCuts[p], kCuts[p + 1] - kCuts[p], into, isa);
          for (std::size_t i = 0; i < kN; ++i)  // bits: NaN and the sign of zero count
            ASSERT_EQ(std::bit_cast<std::uint32_t>(out[i]), std::bit_cast<std::uint32_t>(expected[i]))
                << "element " << i << " isa " << static_cast<int>(isa) << " masked " << masked << " add "
                << (into == Into::kAdd);
        }
      }
}

TEST(MaskedWeightedDelta, DroppedElementsArePlusZeroBeforeTheScale) {
  const TaskVector t = task_vector();
  const std::vector<std::uint8_t> none(bitmask_bytes(kN), 0);
  for (x86::Isa isa : test::runnable_isas()) {
    std::vector<float> out(kN, 1.0f);
    masked_weighted_delta(t.x.data(), t.b.data(), none.data(), 0, 2.0, -1.0f, out.data(), kN, Into::kStore, isa);
    for (std::size_t i = 0; i < kN; ++i) ASSERT_EQ(std::bit_cast<std::uint32_t>(out[i]), 0x80000000u) << i;  // +0 * -1
  }
}

}  // namespace
}  // namespace weld
