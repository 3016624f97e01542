// multislerp: Multi-SLERP (Goddard, 2025), barycentric interpolation of any number of models
// on the hypersphere, around the normalised weighted mean of their directions. With x_i the
// flattened models (their deltas from the base, if one is given) and w_i their weights
// (divided by their sum with normalize_weights):
//   u_i = x_i / (|x_i| + eps);  m = sum_i w_i u_i;  mh = m / |m|;
//   tau = sum_i w_i (u_i - <u_i, mh> mh);  r = |tau| + eps;
//   out = b + (mh cos r + tau sin r / r) sum_i w_i |x_i|
// tau vanishes up to rounding (m is parallel to mh), so out is mh scaled by the mean norm;
// it is computed as stated to follow mergekit. |m| < eps (antipodal directions) falls back to
// sum_i w_i x_i for two models and is an error for more. One model besides the base is
// returned unchanged. Streamed: one pass for the models' Gram matrix gives every norm and
// angle, so the output is a fixed combination of the inputs, written tile by tile.
// weld: the norms and dot products are exact sums in double (mergekit: float32 tensors), and
// tau's norm is |1 - shift / |m|| |m| rather than summed from elements that cancel.
// weld: with normalize_weights, weights that sum to 0 are an error (mergekit divides by 0).
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <span>
#include <optional>
#include <vector>

#include "methods/all_methods.h"
#include "methods/gram.h"
#include "tensor/vector_clones.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kWeight, kNormalizeWeights, kEps };

constexpr ParamDef kParams[] = {
    {"weight", ParamScope::kPerModel, true, 0.0, "the model's weight in the mean"},
    {"normalize_weights", ParamScope::kGlobal, false, 1.0, "divide the weights by their sum"},
    {"eps", ParamScope::kGlobal, false, 1e-8,
     "added to norms before dividing; a mean direction shorter than this is antipodal"},
};

// The models other than the base, in input order.
std::vector<std::size_t> models_of(const MethodCall& call) {
  std::vector<std::size_t> models;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != call.base) models.push_back(i);
  return models;
}

double weight_sum(const MethodCall& call) {
  double sum = 0.0;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != call.base) sum += call.model(i, kWeight);
  return sum;
}

std::optional<std::size_t> identity_input(const MethodCall& call) {
  if (call.n_inputs - (call.base ? 1 : 0) != 1) return std::nullopt;
  return call.base == 0 ? 1 : 0;
}

void validate(const MethodCall& call) {
  const std::size_t n_models = call.n_inputs - (call.base ? 1 : 0);
  if (n_models == 0) fail("multislerp needs at least one model besides the base model");
  if (n_models > 1 && call.global(kNormalizeWeights) != 0.0 && weight_sum(call) == 0.0)
    fail("the weights sum to 0, so normalize_weights cannot divide by them "
         "(change the weights or set normalize_weights: false)");
}

// out = b + sum_i coef_i x_i over the models (their deltas, with a base), or one model
// copied unchanged.
struct MultislerpStats final : TensorStats {
  std::vector<double> coef;
};

// Every vector of the formula is a combination of the x_i, so it is found from their Gram
// matrix G: with c_i = w_i / (|x_i| + eps), m = sum_i c_i x_i, |m|^2 = c.G.c and
// <x_i, m> = (G c)_i; <u_i, mh> = <x_i, m> / ((|x_i| + eps) |m|), so tau = m - shift mh with
// shift = sum_i w_i <u_i, mh>; out = b + m (cos r / |m| + (1 - shift / |m|) sin r / r) sum_i w_i |x_i|.
std::vector<double> coefficients(const MethodCall& call, std::span<const double> g, std::size_t n) {
  const double eps = call.global(kEps);
  const std::vector<std::size_t> models = models_of(call);
  const double divisor = call.global(kNormalizeWeights) != 0.0 ? weight_sum(call) : 1.0;
  std::vector<double> w(n), norm(n), c(n);
  double weighted_norm = 0.0;  // sum_i w_i |x_i|, the norm of the result
  for (std::size_t i = 0; i < n; ++i) {
    w[i] = call.model(models[i], kWeight) / divisor;
    norm[i] = std::sqrt(g[i * n + i]);
    c[i] = w[i] / (norm[i] + eps);
    weighted_norm += w[i] * norm[i];
  }
  std::vector<double> x_dot_m(n, 0.0);
  double mean_squared = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < n; ++k) x_dot_m[i] += g[i * n + k] * c[k];
    mean_squared += c[i] * x_dot_m[i];
  }
  const double mean_norm = std::sqrt(std::max(0.0, mean_squared));
  if (mean_norm < eps) {
    if (n != 2)
      fail("the models' directions cancel out: the weighted mean of their unit vectors has "
           "norm {:g}, below eps {:g}, so multislerp has no mean direction (change the weights)",
           mean_norm, eps);
    return w;  // two antipodal models: their weighted sum
  }
  double shift = 0.0;
  for (std::size_t i = 0; i < n; ++i) shift += w[i] * x_dot_m[i] / ((norm[i] + eps) * mean_norm);
  const double tangent = 1.0 - shift / mean_norm;  // tau = tangent * m
  const double r = std::abs(tangent) * mean_norm + eps;
  const double scale = (std::cos(r) / mean_norm + tangent * std::sin(r) / r) * weighted_norm;
  for (double& ci : c) ci *= scale;
  return c;
}

std::unique_ptr<TensorStats> prepare(const MethodCall& call, const TensorReader& reader) {
  const std::vector<std::size_t> models = models_of(call);
  auto stats = std::make_unique<MultislerpStats>();
  if (models.size() == 1) return stats;
  const std::vector<LaneSum> gram = gram_of_rows(reader, models, call.base, std::max<std::uint64_t>(1, reader.numel));
  stats->coef = coefficients(call, gram_matrix(gram, models.size()), models.size());
  return stats;
}

// Elements per block of merge_tile: the block's sums stay in L1.
constexpr std::size_t kBlock = 1024;

// out = b + sum_i coef_i (x_i - b) (no b without a base) on elements [first, first + m) of a
// tile (m <= kBlock), the models added in input order.
WELD_VECTOR_CLONES void combine_block(const MethodCall& call, const MultislerpStats& stats, const Tile& tile,
                                      std::size_t first, std::size_t m) noexcept {
  std::array<double, kBlock> sum{};
  const float* b = call.base ? tile.inputs[*call.base] + first : nullptr;
  if (b)
    for (std::size_t j = 0; j < m; ++j) sum[j] = b[j];
  std::size_t i = 0;
  for (std::size_t input = 0; input < call.n_inputs; ++input) {
    if (input == call.base) continue;
    const float* x = tile.inputs[input] + first;
    const double coef = stats.coef[i++];
    if (b)
      for (std::size_t j = 0; j < m; ++j) sum[j] += coef * (double{x[j]} - b[j]);
    else
      for (std::size_t j = 0; j < m; ++j) sum[j] += coef * x[j];
  }
  for (std::size_t j = 0; j < m; ++j) tile.out[first + j] = static_cast<float>(sum[j]);
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const MultislerpStats&>(*tile.stats);
  if (stats.coef.empty()) {  // one model: itself
    const float* x = tile.inputs[call.base == 0 ? 1 : 0];
    std::copy(x, x + tile.n, tile.out);
    return;
  }
  for (std::size_t first = 0; first < tile.n; first += kBlock)
    combine_block(call, stats, tile, first, std::min(kBlock, tile.n - first));
}

}  // namespace

const MethodDescriptor kMultislerp = {
    .name = "multislerp",
    .pretty_name = "Multi-SLERP",
    .summary = "weighted spherical mean of any number of models (or their deltas from a base)",
    .formula = "out = b + (mh cos r + tau sin r / r) sum_i w_i |x_i|, mh = m / |m|",
    .paper = "Goddard, Multi-SLERP (blog post), 2025",
    .url = "https://goddard.blog/posts/multislerp-wow-what-a-cool-idea",
    .params = kParams,
    .base = BaseUse::kOptional,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = validate,
    .merge_tile = merge_tile,
    .identity_input = identity_input,
    .description =
        "Generalises slerp to any number of weighted models: each tensor (or its delta from "
        "the base) is projected onto the unit sphere, the models are averaged in the tangent "
        "space at their weighted mean direction and mapped back, and the result is scaled to "
        "the weighted mean of the input norms.",
    .when_to_use = "slerp-like blending of three or more models, or of two with weights",
    .prepare = prepare,
};

}  // namespace weld
