#include "tensor/lanes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace weld {
namespace {

// A kernel with a multiply, a subtraction and a division, so that rounding, NaN and infinity
// all pass through it.
struct MixKernel {
  [[gnu::always_inline]] void operator()(const Lanes* x, Lanes& out) const { out = (3.0f * x[0] - x[1]) / x[2]; }
};

std::vector<float> mixed_values(std::size_t n, std::uint32_t seed) {
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            1e-40f, 7e4f, -6e-8f, 1.0f};
  std::vector<float> v(n);
  std::uint32_t state = seed;
  for (std::size_t i = 0; i < n; ++i) {
    state = state * 1664525u + 1013904223u;
    v[i] = i % 5 == 0 ? specials[(i / 5) % std::size(specials)] : static_cast<float>(state >> 8) / 65536.0f - 128.0f;
  }
  return v;
}

// The kernel, element by element in f32, rounded into dtype: what the tile path gives.
std::vector<std::byte> expected_bytes(DType dtype, const std::vector<std::vector<std::byte>>& inputs, std::size_t n) {
  std::vector<std::vector<float>> x(3, std::vector<float>(n));
  for (std::size_t i = 0; i < 3; ++i) to_f32(dtype, inputs[i].data(), x[i].data(), n);
  std::vector<float> result(n);
  for (std::size_t j = 0; j < n; ++j) result[j] = (3.0f * x[0][j] - x[1][j]) / x[2][j];
  std::vector<std::byte> bytes(n * dtype_size(dtype));
  from_f32(dtype, result.data(), bytes.data(), n);
  return bytes;
}

class LanesTest : public testing::TestWithParam<DType> {};

TEST_P(LanesTest, BothPathsGiveTheElementwiseResultForEveryLength) {
  const DType dtype = GetParam();
  const std::size_t size = dtype_size(dtype);
  for (const std::size_t n : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{17},
                              std::size_t{100}, std::size_t{1024}}) {
    std::vector<std::vector<std::byte>> inputs;
    std::vector<const std::byte*> ptrs;
    for (std::uint32_t i = 0; i < 3; ++i) {
      const std::vector<float> values = mixed_values(n, 7 + i);
      inputs.emplace_back(n * size);
      from_f32(dtype, values.data(), inputs.back().data(), n);
    }
    for (const auto& in : inputs) ptrs.push_back(in.data());
    const std::vector<std::byte> expected = expected_bytes(dtype, inputs, n);
    // A guard byte pattern after the output shows that nothing is written past n.
    std::vector<std::byte> fused(n * size + 64, std::byte{0x77}), converted = fused;
    run_lanes(LaneSpan{ptrs, fused.data(), n, dtype}, MixKernel{});
    lanes_detail::run_converted(LaneSpan{ptrs, converted.data(), n, dtype}, MixKernel{});
    ASSERT_EQ(std::memcmp(fused.data(), expected.data(), n * size), 0) << "n = " << n;
    ASSERT_EQ(std::memcmp(converted.data(), expected.data(), n * size), 0) << "n = " << n;
    for (std::size_t b = n * size; b < fused.size(); ++b) {
      ASSERT_EQ(fused[b], std::byte{0x77}) << "n = " << n;
      ASSERT_EQ(converted[b], std::byte{0x77}) << "n = " << n;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LanesTest, testing::Values(DType::kBF16, DType::kF16, DType::kF32),
                         [](const testing::TestParamInfo<DType>& p) { return std::string(dtype_name(p.param)); });

TEST(Lanes, NoValuesWriteNothing) {
  const std::byte input[2] = {};
  const std::byte* inputs[3] = {input, input, input};
  std::byte out[4] = {std::byte{0x77}, std::byte{0x77}, std::byte{0x77}, std::byte{0x77}};
  run_lanes(LaneSpan{inputs, out, 0, DType::kBF16}, MixKernel{});
  lanes_detail::run_converted(LaneSpan{inputs, out, 0, DType::kBF16}, MixKernel{});
  for (const std::byte b : out) EXPECT_EQ(b, std::byte{0x77});
}

TEST(Lanes, OnlyTheArithmeticDtypesAreLaneDtypes) {
  EXPECT_TRUE(is_lane_dtype(DType::kBF16));
  EXPECT_TRUE(is_lane_dtype(DType::kF16));
  EXPECT_TRUE(is_lane_dtype(DType::kF32));
  EXPECT_FALSE(is_lane_dtype(DType::kI64));
  EXPECT_FALSE(is_lane_dtype(DType::kU8));
}

}  // namespace
}  // namespace weld
