// karcher: the Karcher (Frechet) mean on the unit hypersphere (Karcher, 1977) of the inputs'
// directions, scaled by their mean norm; every input (the base too, when it is one) has
// weight 1/N and each tensor is one vector:
//   u_i = x_i / |x_i|;  u = argmin_u sum_i acos(<u, u_i>)^2 on |u| = 1;  out = (sum_i |x_i| / N) u
// found by Riemannian gradient steps from the normalised mean of the u_i, as mergekit:
//   T = sum_i a_i (th_i / sin th_i) (u_i - cos th_i u),  cos th_i = clamp(<u, u_i>, -1, 1)
//   (terms with th_i < tol skipped);  stop when |T| < tol, else u <- cos|T| u + sin|T| T/|T|
// for at most max_iter steps. Inputs with |x_i| <= tol take no part in the iteration (the
// others' weights a_i are renormalised) but still count in the mean norm; if every input
// is that short the result is zero. One input is returned unchanged.
#include <algorithm>
#include <cmath>
#include <optional>
#include <span>
#include <vector>

#include "methods/all_methods.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kMaxIter, kTol };

constexpr ParamDef kParams[] = {
    {"max_iter", ParamScope::kGlobal, false, 10.0, "most gradient steps on the sphere"},
    {"tol", ParamScope::kGlobal, false, 1e-5,
     "stop when the step is shorter; inputs with a shorter norm are left out of the iteration"},
};

// The inputs that take part in the iteration: their values, 1 / |x_i| and weight a_i.
struct Directions {
  std::vector<const float*> x;
  std::vector<double> inverse_norms;
  double weight = 0.0;  // a_i, equal for all
  double unit(std::size_t i, std::size_t j) const { return x[i][j] * inverse_norms[i]; }
};

double norm_of(const float* x, std::size_t n) {
  double sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) sum += double{x[j]} * x[j];
  return std::sqrt(sum);
}

// Normalises `u` in place when its norm exceeds `floor`.
void normalise(float* u, std::size_t n, double floor) {
  const double norm = norm_of(u, n);
  if (norm > floor)
    for (std::size_t j = 0; j < n; ++j) u[j] = static_cast<float>(u[j] / norm);
}

// The starting point: the normalised weighted mean of the directions, or the first direction
// when that mean is shorter than tol.
void start_direction(const Directions& d, float* u, std::size_t n, double tol) {
  for (std::size_t j = 0; j < n; ++j) {
    double sum = 0.0;
    for (std::size_t i = 0; i < d.x.size(); ++i) sum += d.weight * d.unit(i, j);
    u[j] = static_cast<float>(sum);
  }
  const double norm = norm_of(u, n);
  for (std::size_t j = 0; j < n; ++j)
    u[j] = static_cast<float>(norm < tol ? d.unit(0, j) : u[j] / norm);
}

// One gradient step: writes T into `tangent` and returns false (u unchanged) once |T| < tol.
bool step(const Directions& d, float* u, float* tangent, std::size_t n, double tol) {
  std::fill(tangent, tangent + n, 0.0f);
  for (std::size_t i = 0; i < d.x.size(); ++i) {
    double dot = 0.0;
    for (std::size_t j = 0; j < n; ++j) dot += u[j] * d.unit(i, j);
    const double cos_theta = std::clamp(dot, -1.0, 1.0), theta = std::acos(cos_theta);
    if (theta < tol) continue;
    const double scale = d.weight * theta / std::sin(theta);
    for (std::size_t j = 0; j < n; ++j)
      tangent[j] = static_cast<float>(tangent[j] + scale * (d.unit(i, j) - cos_theta * u[j]));
  }
  const double tangent_norm = norm_of(tangent, n);
  if (tangent_norm < tol) return false;
  const double c = std::cos(tangent_norm), s = std::sin(tangent_norm) / tangent_norm;
  for (std::size_t j = 0; j < n; ++j) u[j] = static_cast<float>(c * u[j] + s * tangent[j]);
  normalise(u, n, tol);
  return true;
}

std::optional<std::size_t> identity_input(const MethodCall& call) {
  if (call.n_inputs == 1) return 0;
  return std::nullopt;
}

void validate(const MethodCall& call) {
  const double max_iter = call.global(kMaxIter);
  if (!(max_iter >= 0.0) || max_iter != std::floor(max_iter))
    fail("max_iter must be a whole number of steps, at least 0, got {:g}", max_iter);
}

void merge_tensor(const MethodCall& call, const WholeTensor& t) {
  if (call.n_inputs == 1) {
    std::copy(t.inputs[0], t.inputs[0] + t.n, t.out);
    return;
  }
  const double tol = call.global(kTol);
  const double max_iter = call.global(kMaxIter);
  const double a = 1.0 / static_cast<double>(call.n_inputs);
  Directions d;
  double mean_norm = 0.0;  // sum_i |x_i| / N over every input
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    const double norm = norm_of(t.inputs[i], t.n);
    mean_norm += a * norm;
    if (norm <= tol) continue;
    d.x.push_back(t.inputs[i]);
    d.inverse_norms.push_back(norm == 0.0 ? 0.0 : 1.0 / norm);  // 0 only when tol < 0
  }
  if (d.x.empty()) {
    std::fill(t.out, t.out + t.n, 0.0f);
    return;
  }
  d.weight = 1.0 / static_cast<double>(d.x.size());

  // The direction u lives in `out` until it is scaled; T in the worker's scratch.
  Scratch owned;
  const std::span<float> tangent = (t.scratch ? t.scratch : &owned)->floats(0, t.n);
  start_direction(d, t.out, t.n, tol);
  for (double k = 0; k < max_iter; ++k)
    if (!step(d, t.out, tangent.data(), t.n, tol)) break;
  for (std::size_t j = 0; j < t.n; ++j) t.out[j] = static_cast<float>(mean_norm * t.out[j]);
}

}  // namespace

const MethodDescriptor kKarcher = {
    .name = "karcher",
    .pretty_name = "Karcher Mean",
    .summary = "mean of the models' directions on the hypersphere, scaled by their mean norm",
    .formula = "out = (sum_i |x_i| / N) argmin_{|u|=1} sum_i acos(<u, x_i / |x_i|>)^2",
    .paper = "Karcher, Riemannian center of mass and mollifier smoothing, Communications on "
             "Pure and Applied Mathematics 30(5), 1977",
    .url = "https://en.wikipedia.org/wiki/Karcher_mean",
    .params = kParams,
    .base = BaseUse::kOptional,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = validate,
    .merge_tile = nullptr,
    .merge_tensor = merge_tensor,
    .identity_input = identity_input,
    .description =
        "Finds the point on the unit sphere whose summed squared angles to the models' "
        "directions is smallest (their geodesic mean) and scales it to the models' mean "
        "norm: a weight-free generalisation of slerp to any number of models. Every model, "
        "the base included, counts equally.",
    .when_to_use = "averaging three or more models without choosing weights, when a plain "
                   "average would shrink diverging tensors",
};

}  // namespace weld
