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
#include <span>
#include <vector>

#include "methods/all_methods.h"
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

// The tensor seen as [outer, length, inner] with the vectors along the middle axis: vector
// (o, k) holds elements (o * length + i) * inner + k for i in [0, length). Columns (inner > 1)
// are then walked row by row, over contiguous memory, rather than down each column.
struct VectorLayout {
  std::size_t outer, length, inner;
};

VectorLayout layout_of(const MethodCall& call, const WholeTensor& t) {
  if (call.global(kFlatten) != 0.0 || t.shape.empty()) return {1, t.n, 1};
  if (call.global(kRowWise) != 0.0) {
    const auto length = static_cast<std::size_t>(t.shape.front());
    return {1, length, t.n / length};
  }
  const auto length = static_cast<std::size_t>(t.shape.back());
  return {t.n / length, length, 1};
}

double interpolation_factor(const MethodCall& call) {
  std::array<double, 2> w{};
  std::size_t k = 0;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != call.base) w[k++] = call.model(i, kWeight);
  const double sum = w[0] + w[1];
  return std::abs(sum) < kMinWeightSum ? 0.5 : w[1] / sum;
}

// Per vector: the sums that give its angle, then the coefficients of d0 and d1.
struct VectorSums {
  double norm0 = 0.0, norm1 = 0.0, dot = 0.0;
};
struct Coefficients {
  double c0, c1;
};

Coefficients coefficients(const VectorSums& s, double t) {
  const double scale =
      std::max(std::sqrt(s.norm0), kMinNorm) * std::max(std::sqrt(s.norm1), kMinNorm);
  const double theta = std::acos(std::clamp(s.dot / scale, -1.0, 1.0));
  const double sin_theta = std::sin(theta);
  if (std::abs(sin_theta) < kMinSin) return {1.0 - t, t};
  return {std::sin((1.0 - t) * theta) / sin_theta, std::sin(t * theta) / sin_theta};
}

// Slerps the `inner` vectors of the block of length * inner elements at `begin`.
void slerp_block(const Operands& in, double t, std::size_t begin, const VectorLayout& v,
                 std::span<VectorSums> sums, std::span<Coefficients> coef, float* out) {
  std::fill(sums.begin(), sums.end(), VectorSums{});
  for (std::size_t i = 0, j = begin; i < v.length; ++i) {
    for (std::size_t k = 0; k < v.inner; ++k, ++j) {
      const double d0 = in.delta(in.x0, j), d1 = in.delta(in.x1, j);
      sums[k].norm0 += d0 * d0;
      sums[k].norm1 += d1 * d1;
      sums[k].dot += d0 * d1;
    }
  }
  for (std::size_t k = 0; k < v.inner; ++k) coef[k] = coefficients(sums[k], t);
  for (std::size_t i = 0, j = begin; i < v.length; ++i) {
    for (std::size_t k = 0; k < v.inner; ++k, ++j) {
      const double b = in.base ? in.base[j] : 0.0;
      out[j] = static_cast<float>(b + coef[k].c0 * in.delta(in.x0, j) +
                                  coef[k].c1 * in.delta(in.x1, j));
    }
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

void merge_tensor(const MethodCall& call, const WholeTensor& t) {
  if (t.n == 0) return;
  Operands in{nullptr, nullptr, call.base ? t.inputs[*call.base] : nullptr};
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == call.base) continue;
    if (in.x0) in.x1 = t.inputs[i];
    else in.x0 = t.inputs[i];
  }
  const double factor = interpolation_factor(call);
  const VectorLayout v = layout_of(call, t);
  std::vector<VectorSums> sums(v.inner);
  std::vector<Coefficients> coef(v.inner);
  for (std::size_t o = 0; o < v.outer; ++o)
    slerp_block(in, factor, o * v.length * v.inner, v, sums, coef, t.out);
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
    .merge_tile = nullptr,
    .merge_tensor = merge_tensor,
    .identity_input = nullptr,
    .description =
        "Spherical interpolation between two models with t set by their relative weights. "
        "With a base model it interpolates the task vectors and adds the base back "
        "(task-vector slerp); without flattening it slerps each row (or, row-wise, each "
        "column) separately, so each output neuron gets its own angle.",
    .when_to_use = "slerp with weights instead of t, or between two fine-tunes' task vectors "
                   "relative to their common base",
};

}  // namespace weld
