// karcher: the Karcher (Frechet) mean on the unit hypersphere (Karcher, 1977) of the inputs'
// directions, scaled by their mean norm; every input (the base too, when it is one) has
// weight 1/N and each tensor is one vector:
//   u_i = x_i / |x_i|;  u = argmin_u sum_i acos(<u, u_i>)^2 on |u| = 1;  out = (sum_i |x_i| / N) u
// found by Riemannian gradient steps from the normalised mean of the u_i, as mergekit:
//   T = sum_i a_i (th_i / sin th_i) (u_i - cos th_i u),  cos th_i = clamp(<u, u_i>, -1, 1)
//   (terms with th_i < tol skipped);  stop when |T| < tol, else u <- cos|T| u + sin|T| T/|T|
// for at most max_iter steps. Inputs with |x_i| <= tol take no part in the iteration (the
// others' weights a_i are renormalised) but still count in the mean norm; if every input
// is that short the result is zero. One input is returned unchanged. Streamed: every point of
// the iteration is a combination of the u_i, so one pass for the inputs' Gram matrix gives
// every angle, the iteration runs on N coefficients, and the output is written tile by tile.
// weld: the iteration is in double on exact sums (mergekit: float32 tensors, summed and
// rounded at each step).
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <numeric>
#include <optional>
#include <span>
#include <vector>

#include "methods/all_methods.h"
#include "methods/gram.h"
#include "tensor/vector_clones.h"
#include "util/error.h"

namespace weld {
namespace {

enum : std::size_t { kMaxIter, kTol };

constexpr ParamDef kParams[] = {
    {"max_iter", ParamScope::kGlobal, false, 10.0, "most gradient steps on the sphere"},
    {"tol", ParamScope::kGlobal, false, 1e-5,
     "stop when the step is shorter; inputs with a shorter norm are left out of the iteration"},
};

std::optional<std::size_t> identity_input(const MethodCall& call) {
  if (call.n_inputs == 1) return 0;
  return std::nullopt;
}

void validate(const MethodCall& call) {
  const double max_iter = call.global(kMaxIter);
  if (!(max_iter >= 0.0) || max_iter != std::floor(max_iter))
    fail("max_iter must be a whole number of steps, at least 0, got {:g}", max_iter);
}

// out = sum_i coef_i x_i over every input, or the one input copied unchanged.
struct KarcherStats final : TensorStats {
  std::vector<double> coef;
};

// The directions that take part in the iteration, as vectors of coefficients c over their
// unit vectors u_i: every point of the iteration is such a combination, and the Gram matrix
// of the u_i gives every norm and angle.
class UnitSpan {
 public:
  // gram: n x n, row-major.
  UnitSpan(std::vector<double> gram, std::size_t n) : n_(n), g_(std::move(gram)) {}
  std::size_t size() const { return n_; }
  // <u_i, sum_k c_k u_k>
  double dot(std::size_t i, std::span<const double> c) const {
    double sum = 0.0;
    for (std::size_t k = 0; k < n_; ++k) sum += g_[i * n_ + k] * c[k];
    return sum;
  }
  double norm(std::span<const double> c) const {
    double sum = 0.0;
    for (std::size_t i = 0; i < n_; ++i) sum += c[i] * dot(i, c);
    return std::sqrt(std::max(0.0, sum));
  }

 private:
  std::size_t n_;
  std::vector<double> g_;
};

// Normalises c in place when its norm exceeds `floor`.
void normalise(const UnitSpan& units, std::vector<double>& c, double floor) {
  const double norm = units.norm(c);
  if (norm > floor)
    for (double& ci : c) ci /= norm;
}

// The starting point: the normalised weighted mean of the directions, or the first direction
// when that mean is shorter than tol.
std::vector<double> start_direction(const UnitSpan& units, double weight, double tol) {
  std::vector<double> c(units.size(), weight);
  const double norm = units.norm(c);
  if (norm < tol) {
    std::fill(c.begin(), c.end(), 0.0);
    c[0] = 1.0;
  } else {
    for (double& ci : c) ci /= norm;
  }
  return c;
}

// One gradient step from u = c; returns false (c unchanged) once |T| < tol.
bool step(const UnitSpan& units, double weight, std::vector<double>& c, double tol) {
  std::vector<double> tangent(units.size(), 0.0);
  for (std::size_t i = 0; i < units.size(); ++i) {
    const double cos_theta = std::clamp(units.dot(i, c), -1.0, 1.0), theta = std::acos(cos_theta);
    if (theta < tol) continue;
    const double scale = weight * theta / std::sin(theta);
    tangent[i] += scale;  // scale (u_i - cos_theta u)
    for (std::size_t k = 0; k < units.size(); ++k) tangent[k] -= scale * cos_theta * c[k];
  }
  const double tangent_norm = units.norm(tangent);
  if (tangent_norm < tol) return false;
  const double cos = std::cos(tangent_norm), sin = std::sin(tangent_norm) / tangent_norm;
  for (std::size_t k = 0; k < units.size(); ++k) c[k] = cos * c[k] + sin * tangent[k];
  normalise(units, c, tol);
  return true;
}

std::vector<double> coefficients(const MethodCall& call, std::span<const double> g) {
  const std::size_t n = call.n_inputs;
  const double tol = call.global(kTol);
  const double a = 1.0 / static_cast<double>(n);
  double mean_norm = 0.0;  // sum_i |x_i| / N over every input
  std::vector<std::size_t> active;  // inputs with |x_i| > tol, in order
  std::vector<double> norm(n);
  for (std::size_t i = 0; i < n; ++i) {
    norm[i] = std::sqrt(g[i * n + i]);
    mean_norm += a * norm[i];
    if (norm[i] > tol) active.push_back(i);
  }
  std::vector<double> coef(n, 0.0);
  if (active.empty()) return coef;  // zero
  // u_i = x_i / |x_i| (0 only when tol < 0 lets a zero vector in).
  const auto inverse = [&](std::size_t i) { return norm[i] == 0.0 ? 0.0 : 1.0 / norm[i]; };
  std::vector<double> unit_gram(active.size() * active.size());
  for (std::size_t p = 0; p < active.size(); ++p)
    for (std::size_t q = 0; q < active.size(); ++q)
      unit_gram[p * active.size() + q] = g[active[p] * n + active[q]] * inverse(active[p]) * inverse(active[q]);
  const UnitSpan units(std::move(unit_gram), active.size());
  const double weight = 1.0 / static_cast<double>(active.size());
  std::vector<double> c = start_direction(units, weight, tol);
  for (double k = 0; k < call.global(kMaxIter); ++k)
    if (!step(units, weight, c, tol)) break;
  for (std::size_t p = 0; p < active.size(); ++p) coef[active[p]] = mean_norm * c[p] * inverse(active[p]);
  return coef;
}

std::unique_ptr<TensorStats> prepare(const MethodCall& call, const TensorReader& reader) {
  auto stats = std::make_unique<KarcherStats>();
  if (call.n_inputs == 1) return stats;
  std::vector<std::size_t> inputs(call.n_inputs);
  std::iota(inputs.begin(), inputs.end(), std::size_t{0});
  const std::vector<LaneSum> gram =
      gram_of_rows(reader, inputs, std::nullopt, std::max<std::uint64_t>(1, reader.numel));
  stats->coef = coefficients(call, gram_matrix(gram, call.n_inputs));
  return stats;
}

// Elements per block of merge_tile: the block's sums stay in L1.
constexpr std::size_t kBlock = 1024;

WELD_VECTOR_CLONES void combine_block(const KarcherStats& stats, const Tile& tile, std::size_t first,
                                      std::size_t m) noexcept {
  std::array<double, kBlock> sum{};
  for (std::size_t i = 0; i < stats.coef.size(); ++i) {
    const float* x = tile.inputs[i] + first;
    for (std::size_t j = 0; j < m; ++j) sum[j] += stats.coef[i] * x[j];
  }
  for (std::size_t j = 0; j < m; ++j) tile.out[first + j] = static_cast<float>(sum[j]);
}

void merge_tile(const MethodCall&, const Tile& tile) noexcept {
  const auto& stats = static_cast<const KarcherStats&>(*tile.stats);
  if (stats.coef.empty()) {  // one input: itself
    std::copy(tile.inputs[0], tile.inputs[0] + tile.n, tile.out);
    return;
  }
  for (std::size_t first = 0; first < tile.n; first += kBlock)
    combine_block(stats, tile, first, std::min(kBlock, tile.n - first));
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
    .merge_tile = merge_tile,
    .identity_input = identity_input,
    .description =
        "Finds the point on the unit sphere whose summed squared angles to the models' "
        "directions is smallest (their geodesic mean) and scales it to the models' mean "
        "norm: a weight-free generalisation of slerp to any number of models. Every model, "
        "the base included, counts equally.",
    .when_to_use = "averaging three or more models without choosing weights, when a plain "
                   "average would shrink diverging tensors",
    .prepare = prepare,
};

}  // namespace weld
