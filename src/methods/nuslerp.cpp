// nuslerp: mergekit's NuSLERP, slerp between two models x0 and x1 at t = w1 / (w0 + w1)
// (0.5 when |w0 + w1| < 1e-6), on their deltas from a base when one is given:
//   out = b + [sin((1 - t) theta) d0 + sin(t theta) d1] / sin theta,   d_i = x_i - b
// (b = 0 without a base). The vectors are the whole tensor (nuslerp_flatten, the default),
// else its rows along the last axis, or with nuslerp_row_wise its columns along axis 0.
// cos theta comes from x / max(|x|, 1e-7), so a zero vector counts as orthogonal to every
// other; |sin theta| < 1e-8 falls back to lerp. The base, if any, must be a third model.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <span>
#include <vector>

#include "methods/all_methods.h"
#include "tensor/lane_sum.h"
#include "tensor/vector_clones.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kWeight, kFlatten, kRowWise };

constexpr ParamDef kParams[] = {
    {"weight", ParamScope::kPerModel, true, 0.0,
     "relative weight of the model; t = w1 / (w0 + w1) for the second model"},
    {"nuslerp_flatten", ParamScope::kGlobal, false, 1.0,
     "slerp the whole tensor as one vector instead of row by row"},
    {"nuslerp_row_wise", ParamScope::kGlobal, false, 0.0,
     "without nuslerp_flatten: vectors run along axis 0 (columns) instead of the last axis"},
};

// mergekit's constants: weight sums below kMinWeightSum give t = 0.5, norms are floored at
// kMinNorm before normalising, and below kMinSin the vectors are colinear (lerp).
constexpr double kMinWeightSum = 1e-6;
constexpr double kMinNorm = 1e-7;
constexpr double kMinSin = 1e-8;

// The two interpolated models and the base (null without one); values are deltas from it.
struct Operands {
  const float* x0;
  const float* x1;
  const float* base;
  double delta(const float* x, std::size_t j) const {
    return base ? static_cast<double>(x[j] - base[j]) : x[j];
  }
};

Operands operands(const MethodCall& call, std::span<const float* const> inputs) {
  Operands in{nullptr, nullptr, call.base ? inputs[*call.base] : nullptr};
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == call.base) continue;
    if (in.x0) in.x1 = inputs[i];
    else in.x0 = inputs[i];
  }
  return in;
}

// The tensor seen as [outer, length, inner] with the vectors along the middle axis: vector
// (o, k) holds elements (o * length + i) * inner + k for i in [0, length). Either outer or
// inner is 1: rows (or the whole tensor) are runs of consecutive elements, columns interleave.
struct VectorLayout {
  std::uint64_t outer, length, inner;
  // The vector that element g belongs to.
  std::uint64_t vector_of(std::uint64_t g) const { return inner == 1 ? g / length : g % inner; }
};

VectorLayout layout_of(const MethodCall& call, std::uint64_t n, std::span<const std::uint64_t> shape) {
  if (call.global(kFlatten) != 0.0 || shape.empty() || n == 0) return {1, n, 1};
  if (call.global(kRowWise) != 0.0) return {1, shape.front(), n / shape.front()};
  return {n / shape.back(), shape.back(), 1};
}

double interpolation_factor(const MethodCall& call) {
  std::array<double, 2> w{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != call.base) w[k++] = call.model(i, kWeight);
  const double sum = w[0] + w[1];
  return std::abs(sum) < kMinWeightSum ? 0.5 : w[1] / sum;
}

// Per vector: the sums that give its angle, in lanes (lane_sum.h) so that they vectorise.
struct VectorSums {
  LaneSum norm0, norm1, dot;
};

struct Coefficients {
  double c0, c1;
};

Coefficients coefficients(const VectorSums& s, double t) {
  const double scale =
      std::max(std::sqrt(s.norm0.value()), kMinNorm) * std::max(std::sqrt(s.norm1.value()), kMinNorm);
  const double theta = std::acos(std::clamp(s.dot.value() / scale, -1.0, 1.0));
  const double sin_theta = std::sin(theta);
  if (std::abs(sin_theta) < kMinSin) return {1.0 - t, t};
  return {std::sin((1.0 - t) * theta) / sin_theta, std::sin(t * theta) / sin_theta};
}

// The coefficients of d0 and d1 for every vector, from one pass.
struct NuslerpStats final : TensorStats {
  VectorLayout layout;
  std::vector<Coefficients> coefficients;
};

// Adds elements [first, first + count) of a tile, all of one vector, to its sums.
WELD_VECTOR_CLONES void add_run(const Operands& in, std::size_t first, std::size_t count, VectorSums& sums) noexcept {
  sums.norm0.add(count, [&](std::size_t j) { return in.delta(in.x0, first + j) * in.delta(in.x0, first + j); });
  sums.norm1.add(count, [&](std::size_t j) { return in.delta(in.x1, first + j) * in.delta(in.x1, first + j); });
  sums.dot.add(count, [&](std::size_t j) { return in.delta(in.x0, first + j) * in.delta(in.x1, first + j); });
}

std::unique_ptr<TensorStats> prepare(const MethodCall& call, const TensorReader& reader) {
  auto stats = std::make_unique<NuslerpStats>();
  const VectorLayout v = stats->layout = layout_of(call, reader.numel, reader.shape);
  std::vector<VectorSums> sums(v.outer * v.inner);
  reader.for_each_tile([&](const Tile& tile) {
    const Operands in = operands(call, tile.inputs);
    for (std::size_t j = 0; j < tile.n;) {
      const std::uint64_t g = tile.begin + j;
      // A run of one vector: to the end of its row, or a single element of a column.
      const std::size_t count =
          v.inner == 1 ? static_cast<std::size_t>(std::min<std::uint64_t>(tile.n - j, v.length - g % v.length)) : 1;
      add_run(in, j, count, sums[v.vector_of(g)]);
      j += count;
    }
    return true;
  });
  const double factor = interpolation_factor(call);
  for (const VectorSums& s : sums) stats->coefficients.push_back(coefficients(s, factor));
  return stats;
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const NuslerpStats&>(*tile.stats);
  const Operands in = operands(call, tile.inputs);
  for (std::size_t j = 0; j < tile.n; ++j) {
    const Coefficients& c = stats.coefficients[stats.layout.vector_of(tile.begin + j)];
    const double b = in.base ? in.base[j] : 0.0;
    tile.out[j] = static_cast<float>(b + c.c0 * in.delta(in.x0, j) + c.c1 * in.delta(in.x1, j));
  }
}

void validate(const MethodCall& call) {
  if (call.base && call.n_inputs != 3)
    fail("the base model cannot be one of the two models nuslerp interpolates "
         "(give two other models, or no base_model)");
  if (!call.base && call.n_inputs != 2)
    fail("nuslerp interpolates two models, got {}; a third may only be the base_model",
         call.n_inputs);
}

}  // namespace

const MethodDescriptor kNuslerp = {
    .name = "nuslerp",
    .pretty_name = "NuSLERP",
    .summary = "slerp of two models (or their deltas from a base) by weight, per tensor or per row",
    .formula = "out = b + (sin((1-t) th) d0 + sin(t th) d1) / sin th, t = w1 / (w0 + w1)",
    .paper = "Goddard et al., Arcee's MergeKit: A Toolkit for Merging Large Language Models, "
             "EMNLP 2024 (industry track)",
    .url = "https://arxiv.org/abs/2403.13257",
    .params = kParams,
    .base = BaseUse::kOptional,
    .min_inputs = 2,
    .max_inputs = 3,
    .validate = validate,
    .merge_tile = merge_tile,
    .identity_input = nullptr,
    .description =
        "Spherical interpolation between two models with t set by their relative weights. "
        "With a base model it interpolates the task vectors and adds the base back "
        "(task-vector slerp); without flattening it slerps each row (or, row-wise, each "
        "column) separately, so each output neuron gets its own angle.",
    .when_to_use = "slerp with weights instead of t, or between two fine-tunes' task vectors "
                   "relative to their common base",
    .prepare = prepare,
};

}  // namespace weld
