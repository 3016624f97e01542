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
// returned unchanged.
// weld: with normalize_weights, weights that sum to 0 are an error (mergekit divides by 0).
#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "methods/all_methods.h"
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

// The models other than the base, in input order, with their (normalised) weights.
struct Models {
  std::vector<const float*> x;
  std::vector<double> weights;
  const float* base = nullptr;  // null without a base
  double delta(std::size_t i, std::size_t j) const {
    return base ? static_cast<double>(x[i][j] - base[j]) : x[i][j];
  }
};

double weight_sum(const MethodCall& call) {
  double sum = 0.0;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != call.base) sum += call.model(i, kWeight);
  return sum;
}

Models models_of(const MethodCall& call, const WholeTensor& t) {
  Models m;
  if (call.base) m.base = t.inputs[*call.base];
  const double divisor = call.global(kNormalizeWeights) != 0.0 ? weight_sum(call) : 1.0;
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == call.base) continue;
    m.x.push_back(t.inputs[i]);
    m.weights.push_back(call.model(i, kWeight) / divisor);
  }
  return m;
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

// The two-model fallback for antipodal directions: the weighted sum, plus the base.
void write_weighted_sum(const Models& m, const WholeTensor& t) {
  for (std::size_t j = 0; j < t.n; ++j) {
    const double b = m.base ? m.base[j] : 0.0;
    t.out[j] = static_cast<float>(b + m.weights[0] * m.delta(0, j) + m.weights[1] * m.delta(1, j));
  }
}

// The models on the unit sphere: u_i = x_i / (|x_i| + eps), kept as the coefficients of x_ij
// in the weighted mean m_j = sum_i w_i u_ij.
struct Projection {
  std::vector<double> norms;  // |x_i|
  std::vector<double> coef;   // w_i / (|x_i| + eps)
  double weighted_norm = 0.0;  // sum_i w_i |x_i|, the norm of the result
  double mean(const Models& m, std::size_t j) const {
    double sum = 0.0;
    for (std::size_t i = 0; i < coef.size(); ++i) sum += coef[i] * m.delta(i, j);
    return sum;
  }
};

Projection project(const Models& m, std::size_t n, double eps) {
  Projection p;
  for (std::size_t i = 0; i < m.x.size(); ++i) {
    double sum = 0.0;
    for (std::size_t j = 0; j < n; ++j) {
      const double x = m.delta(i, j);
      sum += x * x;
    }
    p.norms.push_back(std::sqrt(sum));
    p.coef.push_back(m.weights[i] / (p.norms[i] + eps));
    p.weighted_norm += m.weights[i] * p.norms[i];
  }
  return p;
}

// Maps the weighted tangent vector at mh = m / |m| back to the sphere and scales it:
// <u_i, mh> = x_dot_m[i] / ((|x_i| + eps) |m|), so tau_j = m_j - shift mh_j with
// shift = sum_i w_i <u_i, mh>.
void write_exp_map(const Models& m, const Projection& p, double mean_norm,
                   const std::vector<double>& x_dot_m, double eps, const WholeTensor& t) {
  double shift = 0.0;
  for (std::size_t i = 0; i < m.x.size(); ++i)
    shift += m.weights[i] * x_dot_m[i] / ((p.norms[i] + eps) * mean_norm);
  double tau_norm = 0.0;
  for (std::size_t j = 0; j < t.n; ++j) {
    const double mj = p.mean(m, j), tau = mj - shift * mj / mean_norm;
    tau_norm += tau * tau;
  }
  const double r = std::sqrt(tau_norm) + eps;
  for (std::size_t j = 0; j < t.n; ++j) {
    const double mj = p.mean(m, j), tau = mj - shift * mj / mean_norm;
    const double y = mj / mean_norm * std::cos(r) + tau * std::sin(r) / r;
    const double b = m.base ? m.base[j] : 0.0;
    t.out[j] = static_cast<float>(b + y * p.weighted_norm);
  }
}

void merge_tensor(const MethodCall& call, const WholeTensor& t) {
  const Models m = models_of(call, t);
  const std::size_t n_models = m.x.size();
  if (n_models == 1) {
    std::copy(m.x[0], m.x[0] + t.n, t.out);
    return;
  }
  const double eps = call.global(kEps);
  const Projection p = project(m, t.n, eps);
  double mean_norm = 0.0;
  std::vector<double> x_dot_m(n_models, 0.0);  // <x_i, m>
  for (std::size_t j = 0; j < t.n; ++j) {
    const double mj = p.mean(m, j);
    mean_norm += mj * mj;
    for (std::size_t i = 0; i < n_models; ++i) x_dot_m[i] += m.delta(i, j) * mj;
  }
  mean_norm = std::sqrt(mean_norm);
  if (mean_norm < eps) {
    if (n_models != 2)
      fail("the models' directions cancel out: the weighted mean of their unit vectors has "
           "norm {:g}, below eps {:g}, so multislerp has no mean direction (change the weights)",
           mean_norm, eps);
    write_weighted_sum(m, t);
    return;
  }
  write_exp_map(m, p, mean_norm, x_dot_m, eps, t);
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
    .merge_tile = nullptr,
    .merge_tensor = merge_tensor,
    .identity_input = identity_input,
    .description =
        "Generalises slerp to any number of weighted models: each tensor (or its delta from "
        "the base) is projected onto the unit sphere, the models are averaged in the tangent "
        "space at their weighted mean direction and mapped back, and the result is scaled to "
        "the weighted mean of the input norms.",
    .when_to_use = "slerp-like blending of three or more models, or of two with weights",
};

}  // namespace weld
