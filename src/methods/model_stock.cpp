// model_stock: Model Stock (Jang et al., 2024). The fine-tunes' average is pulled toward the
// base by how little their offsets d_i = x_i - b from it agree (N fine-tunes):
//   cos = mean_{i<j} clamp(<d_i, d_j> / max(|d_i| |d_j|, 1e-6), -1, 1)
//   t = N cos / (1 + (N - 1) cos);   out = t * mean_i x_i + (1 - t) * b
// One t per tensor (flattened), or with filter_wise one per row along the last axis (a 1-D
// tensor is one row). Needs the base and at least two fine-tunes. mergekit averages the
// pairwise cosines; the paper only treats a single angle.
// weld: offsets that cancel out (1 + (N - 1) cos below 1e-6, e.g. d_2 = -d_1) are an error;
// mergekit divides by that and writes inf or NaN.
#include <algorithm>
#include <cmath>
#include <vector>

#include "methods/all_methods.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kFilterWise };

constexpr ParamDef kParams[] = {
    {"filter_wise", ParamScope::kGlobal, false, 0.0,
     "one interpolation ratio per row (along the last axis) instead of one per tensor"},
};

// mergekit's floor on |d_i| |d_j|, so a zero offset has cosine 0 with every other.
constexpr double kMinNormProduct = 1e-6;
// Below this 1 + (N - 1) cos makes t meaningless (it is 0 only when the unit offsets sum to 0).
constexpr double kMinDenominator = 1e-6;

// The interpolation ratio t of elements [begin, begin + length) of every input.
double stock_ratio(const MethodCall& call, const WholeTensor& t, std::size_t begin,
                   std::size_t length, bool per_row) {
  const float* b = t.inputs[*call.base] + begin;
  std::vector<const float*> fine_tunes;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != *call.base) fine_tunes.push_back(t.inputs[i] + begin);
  const std::size_t n_models = fine_tunes.size();

  std::vector<double> norms(n_models, 0.0);
  for (std::size_t i = 0; i < n_models; ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < length; ++j) {
      const double d = double{fine_tunes[i][j]} - b[j];
      sum += d * d;
    }
    norms[i] = std::sqrt(sum);
  }
  double cos_sum = 0.0;
  for (std::size_t i = 0; i < n_models; ++i) {
    for (std::size_t k = i + 1; k < n_models; ++k) {
      double dot = 0.0;
      for (std::size_t j = 0; j < length; ++j)
        dot += (double{fine_tunes[i][j]} - b[j]) * (double{fine_tunes[k][j]} - b[j]);
      cos_sum += std::clamp(dot / std::max(norms[i] * norms[k], kMinNormProduct), -1.0, 1.0);
    }
  }
  const double n = static_cast<double>(n_models);
  const double cos = cos_sum / (n * (n - 1.0) / 2.0);
  const double denominator = 1.0 + (n - 1.0) * cos;
  if (denominator < kMinDenominator)
    fail(
        "the fine-tunes' offsets from the base cancel out{} (mean cosine {:g}), so "
        "t = N cos / (1 + (N - 1) cos) is undefined",
        per_row ? fmt::format(" in row {}", begin / length) : "", cos);
  return n * cos / denominator;
}

void merge_tensor(const MethodCall& call, const WholeTensor& t) {
  if (t.n == 0) return;
  const bool per_row = call.global(kFilterWise) != 0.0 && !t.shape.empty();
  const std::size_t row_length = per_row ? static_cast<std::size_t>(t.shape.back()) : t.n;
  const double n_models = static_cast<double>(call.n_inputs - 1);
  const float* b = t.inputs[*call.base];
  for (std::size_t begin = 0; begin < t.n; begin += row_length) {
    const double ratio = stock_ratio(call, t, begin, row_length, per_row);
    for (std::size_t j = begin; j < begin + row_length; ++j) {
      double sum = 0.0;
      for (std::size_t i = 0; i < call.n_inputs; ++i)
        if (i != *call.base) sum += t.inputs[i][j];
      t.out[j] = static_cast<float>(ratio * (sum / n_models) + (1.0 - ratio) * b[j]);
    }
  }
}

}  // namespace

const MethodDescriptor kModelStock = {
    .name = "model_stock",
    .pretty_name = "Model Stock",
    .summary = "move from the base toward the fine-tunes' average by how much their offsets agree",
    .formula = "out = t mean_i x_i + (1 - t) b, t = N cos / (1 + (N - 1) cos)",
    .paper = "Jang et al., Model Stock: All we need is just a few fine-tuned models, ECCV 2024",
    .url = "https://arxiv.org/abs/2403.19522",
    .params = kParams,
    .base = BaseUse::kRequired,
    .min_inputs = 3,
    .max_inputs = kUnbounded,
    .validate = nullptr,
    .merge_tile = nullptr,
    .merge_tensor = merge_tensor,
    .identity_input = nullptr,
    .description =
        "Measures how much the fine-tunes' offsets from the base agree (their mean pairwise "
        "cosine) and moves from the base towards the fine-tunes' average by the ratio that "
        "geometry implies: close agreement keeps the average, orthogonal offsets stay near the "
        "base. Needs no weights.",
    .when_to_use = "several fine-tunes of one base from different seeds or data orders, when you "
                   "have no weights to tune",
};

}  // namespace weld
