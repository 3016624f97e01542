// Runs a method on one small tile, the way the executor does.
#pragma once

#include <algorithm>
#include <cstring>
#include <iterator>
#include <cmath>
#include <memory>
#include <limits>
#include <numbers>
#include <vector>

#include <gtest/gtest.h>

#include "methods/method.h"
#include "methods/registry.h"
#include "tensor/convert.h"

namespace weld::test {

// The values the sphere methods' hand-worked cases come out at.
inline constexpr double kPi = std::numbers::pi;
inline const float kRootHalf = static_cast<float>(std::sqrt(0.5));

// Builds a call with every parameter at its default, then applies `globals` and per-model
// values by name (NaN = unset).
inline MethodCall make_call(const MethodDescriptor& m, std::size_t n_inputs,
                            std::optional<std::size_t> base,
                            const std::vector<std::pair<std::string, std::vector<double>>>& per_model,
                            const std::vector<std::pair<std::string, double>>& globals = {}) {
  MethodCall call;
  call.n_inputs = n_inputs;
  call.base = base;
  call.global_params.assign(m.params.size(), std::numeric_limits<double>::quiet_NaN());
  call.model_params.assign(n_inputs * m.params.size(), std::numeric_limits<double>::quiet_NaN());
  const auto model_param = [&](std::size_t input, std::size_t p) -> double& {
    return call.model_params[input * m.params.size() + p];
  };
  for (std::size_t p = 0; p < m.params.size(); ++p) {
    if (m.params[p].required) continue;
    if (m.params[p].scope == ParamScope::kGlobal) call.global_params[p] = m.params[p].default_value;
    else for (std::size_t i = 0; i < n_inputs; ++i) model_param(i, p) = m.params[p].default_value;
  }
  for (const auto& [name, value] : globals) call.global_params[*find_param(m, name)] = value;
  for (const auto& [name, values] : per_model)
    for (std::size_t i = 0; i < n_inputs; ++i) model_param(i, *find_param(m, name)) = values[i];
  return call;
}

// A streamed method's view of in-memory inputs, in tiles of `tile` elements.
class VectorReader final : public TensorReader {
 public:
  VectorReader(const std::vector<const float*>& inputs, std::uint64_t n, std::span<const std::uint64_t> dims,
               std::string_view tensor_name, std::uint64_t random_seed, std::size_t tile, Scratch& scratch,
               std::optional<LaneSpan> lanes = std::nullopt)
      : TensorReader(n, dims, tensor_name, random_seed), inputs_(inputs), tile_(tile), scratch_(scratch),
        lanes_(lanes) {}

  bool has_lanes() const override { return lanes_.has_value(); }
  void for_each_lane_block(std::uint64_t first, std::uint64_t end, const LaneBlockFn& fn) const override {
    WELD_CHECK(lanes_);
    for_each_block_of(*lanes_, first, end, tile_, fn);
  }

  void for_each_tile(std::uint64_t first, std::uint64_t end,
                     const std::function<bool(const Tile& tile)>& fn) const override {
    for (std::uint64_t begin = first; begin < end; begin += tile_) {
      std::vector<const float*> at;
      for (const float* in : inputs_) at.push_back(in + begin);
      if (!fn(Tile{at, nullptr, std::min<std::size_t>(tile_, end - begin), begin, nullptr, &scratch_})) return;
    }
  }

 private:
  const std::vector<const float*>& inputs_;
  std::size_t tile_;
  Scratch& scratch_;
  std::optional<LaneSpan> lanes_;  // the same values in their own dtype, for fused passes
};

// Runs the method as the executor would: tile-wise (streamed methods first make their passes;
// tiles of `tile` elements, default the whole tensor), or on the whole tensor. `shape`
// defaults to one row; random streams are keyed by `name` and `seed`.
inline std::vector<float> run_tile(const MethodDescriptor& m, const MethodCall& call,
                                   const std::vector<std::vector<float>>& inputs,
                                   std::vector<std::uint64_t> shape = {}, std::uint64_t seed = 42,
                                   std::string_view name = "t", std::size_t tile = 0) {
  std::vector<const float*> ptrs;
  for (const auto& in : inputs) ptrs.push_back(in.data());
  std::vector<float> out(inputs.front().size());
  if (shape.empty()) shape = {out.size()};
  if (tile == 0) tile = std::max<std::size_t>(1, out.size());
  if (m.validate) m.validate(call);
  Scratch scratch;
  std::unique_ptr<TensorStats> stats;
  if (m.prepare) stats = m.prepare(call, VectorReader(ptrs, out.size(), shape, name, seed, tile, scratch));
  for (std::size_t begin = 0; begin < out.size(); begin += tile) {
    std::vector<const float*> at;
    for (const float* in : ptrs) at.push_back(in + begin);
    m.merge_tile(call, Tile{at, out.data() + begin, std::min(tile, out.size() - begin), begin, stats.get(), &scratch});
  }
  return out;
}

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// n_inputs vectors of n values, uniform in [-shift, 1 - shift), the same on every run.
inline std::vector<std::vector<float>> random_inputs(std::size_t n_inputs, std::size_t n, double shift) {
  std::vector<std::vector<float>> inputs(n_inputs, std::vector<float>(n));
  std::uint64_t state = 5;
  for (auto& x : inputs)
    for (float& v : x) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      v = static_cast<float>(static_cast<double>(state >> 11) / 9007199254740992.0 - shift);
    }
  return inputs;
}

// The bytes of `values` in `dtype`, and back as the f32 values a merge of them sees.
inline std::vector<std::byte> to_bytes(DType dtype, const std::vector<float>& values) {
  std::vector<std::byte> bytes(values.size() * dtype_size(dtype));
  from_f32(dtype, values.data(), bytes.data(), values.size());
  return bytes;
}
inline std::vector<float> to_floats(DType dtype, const std::vector<std::byte>& bytes) {
  std::vector<float> values(bytes.size() / dtype_size(dtype));
  to_f32(dtype, bytes.data(), values.data(), values.size());
  return values;
}

// Runs a method's merge_lanes on `inputs` stored as `dtype`, in tiles of `tile` elements,
// after its passes (if any, fused where they can be), and compares the bytes with those of
// passes and merge_tile on the whole tensor converted to `dtype`: the fused path must not
// change one bit.
inline void expect_lanes_match_tiles(const MethodDescriptor& m, const MethodCall& call,
                                     const std::vector<std::vector<float>>& inputs, DType dtype,
                                     std::size_t tile, std::vector<std::uint64_t> shape = {}) {
  ASSERT_NE(m.merge_lanes, nullptr) << m.name;
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::vector<float>> seen;  // what the tile path reads
  for (const auto& x : inputs) {
    bytes.push_back(to_bytes(dtype, x));
    seen.push_back(to_floats(dtype, bytes.back()));
  }
  const std::size_t n = inputs.front().size(), size = dtype_size(dtype);
  if (shape.empty()) shape = {n};
  const std::vector<std::byte> expected = to_bytes(dtype, run_tile(m, call, seen, shape));

  std::vector<const float*> ptrs;
  for (const auto& x : seen) ptrs.push_back(x.data());
  std::vector<const std::byte*> whole;
  for (const auto& b : bytes) whole.push_back(b.data());
  Scratch scratch;
  std::unique_ptr<TensorStats> stats;
  if (m.prepare)
    stats = m.prepare(call, VectorReader(ptrs, n, shape, "t", 42, n, scratch, LaneSpan{whole, nullptr, n, dtype}));
  std::vector<std::byte> out(n * size, std::byte{0x5a});
  for (std::size_t begin = 0; begin < n; begin += tile) {
    std::vector<const std::byte*> at;
    for (const auto& b : bytes) at.push_back(b.data() + begin * size);
    const LaneSpan span{at, out.data() + begin * size, std::min(tile, n - begin), dtype};
    const bool merged = m.merge_lanes(call, LaneTile{span, begin, stats.get()});
    if (!merged && !lanes_are_fused()) GTEST_SKIP() << m.name << " runs on the fused path only where it is fused";
    ASSERT_TRUE(merged) << m.name << ": no fused path";
  }
  const std::vector<float> got = to_floats(dtype, out), want = to_floats(dtype, expected);
  for (std::size_t i = 0; i < n; ++i) {
    // NaN is NaN: which NaN (sign, payload) an operation on two of them returns depends on the
    // order the compiler gave the operands, in the tile path's vector and scalar loops alike.
    if (std::isnan(got[i]) && std::isnan(want[i])) continue;
    ASSERT_EQ(std::memcmp(out.data() + i * size, expected.data() + i * size, size), 0)
        << m.name << " " << dtype_name(dtype) << ": element " << i << " of " << n << ", tiles of " << tile
        << ": " << got[i] << " instead of " << want[i];
  }
}

// A streamed method's passes over the inputs' own bytes (TensorReader::for_each_lane_block) find
// the statistics its passes over f32 tiles (of `tile` elements) find: merge_tile gives the
// same values to the bit with either.
inline void expect_lane_passes_match_tiles(const MethodDescriptor& m, const MethodCall& call,
                                           const std::vector<std::vector<float>>& inputs, DType dtype,
                                           std::size_t tile) {
  ASSERT_NE(m.prepare, nullptr) << m.name;
  std::vector<std::vector<std::byte>> bytes;
  std::vector<std::vector<float>> seen;
  for (const auto& x : inputs) {
    bytes.push_back(to_bytes(dtype, x));
    seen.push_back(to_floats(dtype, bytes.back()));
  }
  const std::size_t n = inputs.front().size();
  const std::vector<std::uint64_t> shape = {n};
  std::vector<const float*> ptrs;
  for (const auto& x : seen) ptrs.push_back(x.data());
  std::vector<const std::byte*> whole;
  for (const auto& b : bytes) whole.push_back(b.data());
  Scratch scratch;
  const std::unique_ptr<TensorStats> stats =
      m.prepare(call, VectorReader(ptrs, n, shape, "t", 42, tile, scratch, LaneSpan{whole, nullptr, n, dtype}));
  std::vector<float> got(n);
  m.merge_tile(call, Tile{ptrs, got.data(), n, 0, stats.get(), &scratch});
  const std::vector<float> want = run_tile(m, call, seen, shape, 42, "t", tile);
  for (std::size_t i = 0; i < n; ++i)
    ASSERT_EQ(std::memcmp(&got[i], &want[i], sizeof got[i]), 0)
        << m.name << " " << dtype_name(dtype) << ": element " << i << ": " << got[i] << " instead of " << want[i];
}

// Inputs for expect_lanes_match_tiles: random values with zeros of both signs, infinities,
// NaN, subnormals and values past the f16 range among them, n of each.
inline std::vector<std::vector<float>> lane_test_inputs(std::size_t n_inputs, std::size_t n) {
  std::vector<std::vector<float>> inputs = random_inputs(n_inputs, n, 0.5);
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            1e-40f, -3e-39f, 7e4f, -1e5f, 6e-8f, 1.0f, 0.5f};
  for (std::size_t i = 0; i < n_inputs; ++i)
    for (std::size_t j = 0; j < n; j += 7 + i) inputs[i][j] = specials[(j / 7 + i) % std::size(specials)];
  return inputs;
}

}  // namespace weld::test
