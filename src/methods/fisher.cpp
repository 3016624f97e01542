// fisher: Fisher-weighted averaging (Matena & Raffel, 2022). Each model's parameters count
// in proportion to how much information about them its diagonal Fisher F_i holds:
//   out = sum_i w_i F'_i x_i / sum_i w_i F'_i,   F'_i = max(F_i, fisher_floor)
// The floor (default 1e-8) keeps the division defined: an element no model has information
// about becomes the w-weighted mean. F_i comes from the file named by the model's `fisher`
// parameter (as `weld fisher` writes it: the model's tensor names), read as extra inputs.
// Not in mergekit.
#include <algorithm>
#include <cmath>

#include "methods/all_methods.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kWeight, kFisher, kFisherFloor };

constexpr ParamDef kParams[] = {
    {"weight", ParamScope::kPerModel, false, 1.0, "the model's weight, on top of its Fisher"},
    {"fisher", ParamScope::kPerModel, true, 0.0,
     "safetensors file of the model's diagonal Fisher information (weld fisher)", ParamKind::kFile},
    {"fisher_floor", ParamScope::kGlobal, false, 1e-8,
     "Fisher values below this count as this, so that the division is always defined"},
};

void validate(const MethodCall& call) {
  if (!(call.global(kFisherFloor) > 0.0)) fail("fisher_floor must be positive, got {:g}", call.global(kFisherFloor));
  double sum = 0.0;
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    const double w = call.model(i, kWeight);
    if (!(w >= 0.0)) fail("weight {:g} of input {}: fisher weights must be non-negative", w, i + 1);
    sum += w;
  }
  if (sum == 0.0) fail("the weights sum to 0, so the Fisher-weighted mean is undefined");
}

// Inputs [0, n) are the models, [n, 2n) their Fisher tensors.
void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const std::size_t n = call.n_inputs;
  const double floor = call.global(kFisherFloor);
  for (std::size_t j = 0; j < tile.n; ++j) {
    double numerator = 0.0, denominator = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double importance = call.model(i, kWeight) * std::max(double{tile.inputs[n + i][j]}, floor);
      numerator += importance * tile.inputs[i][j];
      denominator += importance;
    }
    tile.out[j] = static_cast<float>(numerator / denominator);
  }
}

}  // namespace

const MethodDescriptor kFisher = {
    .name = "fisher",
    .pretty_name = "Fisher-weighted averaging",
    .summary = "average the models element by element, each weighted by its Fisher information",
    .formula = "out = sum_i w_i F_i x_i / sum_i w_i F_i, F_i floored at fisher_floor",
    .paper = "Matena & Raffel, Merging Models with Fisher-Weighted Averaging, NeurIPS 2022",
    .url = "https://arxiv.org/abs/2111.09832",
    .params = kParams,
    .base = BaseUse::kIgnored,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = validate,
    .merge_tile = merge_tile,
    .identity_input = nullptr,
    .description =
        "A weighted average in which each parameter of each model counts by how much the "
        "model's loss depends on it: the diagonal of its Fisher information, which `weld "
        "fisher` computes from data. Parameters a model barely uses give way to the models "
        "that rely on them. Not in mergekit.",
    .when_to_use = "fine-tunes on different tasks, when a little data from each task is at hand "
                   "to compute the Fisher files",
};

}  // namespace weld
