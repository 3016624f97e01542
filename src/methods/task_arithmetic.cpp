// task_arithmetic: Editing Models with Task Arithmetic (Ilharco et al., 2023).
//   d_i = x_i - b;  out = b + lambda * sum_i w_i d_i  (/ sum_i w_i when normalize)
// Without normalize the weights scale each task vector as given (negative weights negate a
// task); with it, a weight sum below 1e-8 in magnitude divides by 1, as mergekit does.
#include <cmath>

#include "methods/all_methods.h"

namespace weld {
namespace {

enum : std::size_t { kWeight, kDensity, kNormalize, kLambda, kInt8Mask };

constexpr ParamDef kParams[] = {
    {"weight", ParamScope::kPerModel, true, 0.0, "scale of the model's task vector"},
    {"density", ParamScope::kPerModel, false, 1.0,
     "accepted for mergekit compatibility; task_arithmetic keeps every element"},
    {"normalize", ParamScope::kGlobal, false, 0.0, "divide the sum by the sum of the weights"},
    {"lambda", ParamScope::kGlobal, false, 1.0, "scale of the merged task vector"},
    {"int8_mask", ParamScope::kGlobal, false, 0.0,
     "accepted for mergekit compatibility (a memory saving there); no effect"},
};

// Weight sums this close to zero would blow the task vectors up; mergekit divides by 1.
constexpr double kMinDivisor = 1e-8;

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const std::size_t base = *call.base;
  double divisor = 1.0;
  if (call.global(kNormalize) != 0.0) {
    divisor = 0.0;
    for (std::size_t i = 0; i < call.n_inputs; ++i)
      if (i != base) divisor += call.model(i, kWeight);
    if (std::abs(divisor) < kMinDivisor) divisor = 1.0;
  }
  const double lambda = call.global(kLambda);
  const float* b = tile.inputs[base];
  for (std::size_t j = 0; j < tile.n; ++j) tile.out[j] = 0.0f;
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == base) continue;
    const float w = static_cast<float>(call.model(i, kWeight) / divisor * lambda);
    const float* x = tile.inputs[i];
    for (std::size_t j = 0; j < tile.n; ++j) tile.out[j] += w * (x[j] - b[j]);
  }
  for (std::size_t j = 0; j < tile.n; ++j) tile.out[j] += b[j];
}

}  // namespace

const MethodDescriptor kTaskArithmetic = {
    .name = "task_arithmetic",
    .pretty_name = "Task Arithmetic",
    .summary = "add weighted task vectors (fine-tune minus base) to the base",
    .formula = "out = b + lambda * sum_i w_i (x_i - b)",
    .paper = "Ilharco et al., Editing Models with Task Arithmetic, ICLR 2023",
    .url = "https://arxiv.org/abs/2212.04089",
    .params = kParams,
    .base = BaseUse::kRequired,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = nullptr,
    .merge_tile = merge_tile,
    .merge_tensor = nullptr,
    .identity_input = nullptr,
};

}  // namespace weld
