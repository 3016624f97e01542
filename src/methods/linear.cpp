// linear: Model Soups (Wortsman et al., 2022), the weighted average of the inputs.
//   out = sum_i w_i x_i / sum_i w_i      (without the division when normalize is false)
// weld: a zero weight sum with normalize is an error, not NaN; a base model that the config
// gives no weight (it was only named as base_model) takes no part in the average.
#include <algorithm>
#include <cmath>

#include "methods/all_methods.h"
#include "tensor/vector_clones.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kWeight, kNormalize };

constexpr ParamDef kParams[] = {
    {"weight", ParamScope::kPerModel, true, 0.0, "the model's weight in the average"},
    {"normalize", ParamScope::kGlobal, false, 1.0, "divide by the sum of the weights"},
};

// A model without a weight (only the base model can lack one) contributes nothing.
double weight_of(const MethodCall& call, std::size_t input) {
  const double w = call.model(input, kWeight);
  return std::isnan(w) ? 0.0 : w;
}

double weight_sum(const MethodCall& call) {
  double sum = 0.0;
  for (std::size_t i = 0; i < call.n_inputs; ++i) sum += weight_of(call, i);
  return sum;
}

void validate(const MethodCall& call) {
  if (call.global(kNormalize) != 0.0 && weight_sum(call) == 0.0)
    fail("the weights sum to 0, so normalize cannot divide by them "
         "(change the weights or set normalize: false)");
}

WELD_VECTOR_CLONES void add_weighted(float* __restrict sum, const float* __restrict x, float w, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) sum[j] += w * x[j];
}

// Elements summed at a time: the block of the sum stays in L1 while each input is added.
constexpr std::size_t kBlock = 2048;

// Each input's factor, w_i / sum_i w_i (or w_i without normalize), in f32.
float factor_of(const MethodCall& call, std::size_t input) {
  const double divisor = call.global(kNormalize) != 0.0 ? weight_sum(call) : 1.0;
  return static_cast<float>(weight_of(call, input) / divisor);
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  for (std::size_t first = 0; first < tile.n; first += kBlock) {
    const std::size_t n = std::min(kBlock, tile.n - first);
    float* sum = tile.out + first;
    std::fill_n(sum, n, 0.0f);
    for (std::size_t i = 0; i < call.n_inputs; ++i) {
      const float w = factor_of(call, i);
      // Skipped, not added as zeros: 0 * inf would make NaN.
      if (w != 0.0f) add_weighted(sum, tile.inputs[i] + first, w, n);
    }
  }
}

// merge_tile's sum over 16 lanes: the same additions in the same order, of kN inputs (0: as
// many as the call has; a constant keeps the inputs' lanes in registers).
template <std::size_t kN>
struct WeightedSum {
  static constexpr std::size_t kInputs = kN;
  float factors[kMaxLaneInputs];
  std::size_t n_inputs;

  [[gnu::always_inline]] void operator()(const Lanes* x, Lanes& sum) const {
    sum = Lanes{};
    for (std::size_t i = 0; i < (kN != 0 ? kN : n_inputs); ++i)
      if (factors[i] != 0.0f) sum += factors[i] * x[i];
  }
};

// Inputs below this many have a kernel of their own.
constexpr std::size_t kConstantInputs = 5;

bool merge_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  const auto run = [&](auto n) {
    WeightedSum<n> sum{{}, call.n_inputs};
    for (std::size_t i = 0; i < call.n_inputs; ++i) sum.factors[i] = factor_of(call, i);
    run_lanes(tile.values, sum);
  };
  if (call.n_inputs < kConstantInputs) with_constant_index<kConstantInputs>(call.n_inputs, run);
  else run(std::integral_constant<std::size_t, 0>{});
  return true;
}

}  // namespace

const MethodDescriptor kLinear = {
    .name = "linear",
    .pretty_name = "Linear (model soup)",
    .summary = "weighted average of the models",
    .formula = "out = sum_i w_i x_i / sum_i w_i",
    .paper = "Wortsman et al., Model soups: averaging weights of multiple fine-tuned models "
             "improves accuracy without increasing inference time, ICML 2022",
    .url = "https://arxiv.org/abs/2203.05482",
    .params = kParams,
    .base = BaseUse::kOptional,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = validate,
    .merge_tile = merge_tile,
    .identity_input = nullptr,
    .description =
        "Averages the models element by element with the given weights. Fine-tunes of one "
        "base usually sit in one low-loss basin, so their average (a model soup) is often "
        "as good as the best of them and more robust.",
    .when_to_use = "several fine-tunes of the same base on similar tasks; the simplest "
                   "baseline, and WiSE-FT when one input is the base itself",
    .merge_lanes = merge_lanes,
};

}  // namespace weld
