// slerp: spherical linear interpolation (Shoemake, 1985) between the base v0 and the other
// model v1, the whole tensor taken as one vector:
//   theta = acos(<v0/|v0|, v1/|v1|>);   out = [sin((1 - t) theta) v0 + sin(t theta) v1] / sin theta
// The angle comes from the normalised tensors, the formula is applied to the unnormalised
// ones. As mergekit: a norm of at most 1e-8 leaves that tensor unnormalised, and nearly
// colinear tensors (|cos theta| > 0.9995) are interpolated linearly. Exactly two models.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "methods/all_methods.h"
#include "methods/gram.h"
#include "tensor/lane_sum.h"
#include "tensor/vector_clones.h"

namespace weld {
namespace {

enum : std::size_t { kT };

constexpr ParamDef kParams[] = {
    {"t", ParamScope::kGlobal, true, 0.0,
     "interpolation factor: 0 gives the base, 1 the other model"},
};

// mergekit's thresholds: tensors with a smaller norm are not normalised, and above this
// |cos theta| sin theta is too small to divide by, so slerp falls back to lerp.
constexpr double kMinNorm = 1e-8;
constexpr double kColinearCos = 0.9995;

// The two coefficients of the tensor, from its norms and dot product (one pass).
struct SlerpStats final : TensorStats {
  double c0 = 1.0, c1 = 0.0;
};

// v1's input index (v0 is the base).
std::size_t other(const MethodCall& call) { return *call.base == 0 ? 1 : 0; }

std::unique_ptr<TensorStats> prepare(const MethodCall& call, const TensorReader& reader) {
  // The Gram sums of (v0, v1): |v0|^2, <v0, v1>, |v1|^2.
  const std::size_t vectors[] = {*call.base, other(call)};
  const std::vector<LaneSum> gram =
      gram_of_rows(reader, vectors, std::nullopt, std::max<std::uint64_t>(1, reader.numel));
  double norm0 = gram[0].value(), dot = gram[1].value(), norm1 = gram[2].value();
  norm0 = std::sqrt(norm0);
  norm1 = std::sqrt(norm1);
  if (norm0 > kMinNorm) dot /= norm0;
  if (norm1 > kMinNorm) dot /= norm1;

  auto stats = std::make_unique<SlerpStats>();
  const double factor = call.global(kT);
  stats->c0 = 1.0 - factor;
  stats->c1 = factor;
  if (std::abs(dot) <= kColinearCos) {
    // At t = 0 and t = 1 the coefficients are exactly 1 and 0: that input comes out unchanged.
    const double theta = std::acos(dot), theta_t = theta * factor;
    stats->c0 = std::sin(theta - theta_t) / std::sin(theta);
    stats->c1 = std::sin(theta_t) / std::sin(theta);
  }
  return stats;
}

WELD_VECTOR_CLONES void interpolate(const float* v0, const float* v1, double c0, double c1, float* out,
                                    std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) out[j] = static_cast<float>(c0 * v0[j] + c1 * v1[j]);
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const SlerpStats&>(*tile.stats);
  interpolate(tile.inputs[*call.base], tile.inputs[other(call)], stats.c0, stats.c1, tile.out, tile.n);
}

// interpolate over 16 lanes, in double as there, with the base (v0) input kBase.
template <std::size_t kBase>
struct Interpolate {
  static constexpr std::size_t kInputs = 2;
  double c0, c1;

  [[gnu::always_inline]] void operator()(const Lanes* x, Lanes& out) const {
    const DoubleLanes a = __builtin_convertvector(x[kBase], DoubleLanes);
    const DoubleLanes b = __builtin_convertvector(x[1 - kBase], DoubleLanes);
    out = __builtin_convertvector(c0 * a + c1 * b, Lanes);
  }
};

bool merge_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  const auto& stats = static_cast<const SlerpStats&>(*tile.stats);
  with_constant_index<2>(*call.base,
                         [&](auto base) { run_lanes(tile.values, Interpolate<base>{stats.c0, stats.c1}); });
  return true;
}

}  // namespace

const MethodDescriptor kSlerp = {
    .name = "slerp",
    .pretty_name = "SLERP",
    .summary = "interpolate along the great circle between the base and one other model",
    .formula = "out = (sin((1-t) th) v0 + sin(t th) v1) / sin th, cos th = <v0,v1> / (|v0| |v1|)",
    .paper = "Shoemake, Animating rotation with quaternion curves, SIGGRAPH 1985",
    .url = "https://doi.org/10.1145/325165.325242",
    .params = kParams,
    .base = BaseUse::kRequired,
    .min_inputs = 2,
    .max_inputs = 2,
    .validate = nullptr,
    .merge_tile = merge_tile,
    .identity_input = nullptr,
    .description =
        "Treats each tensor of the two models as one vector and moves from the base towards "
        "the other model along the arc between their directions, so that the interpolated "
        "tensor does not shrink the way a straight average of two diverging vectors does. "
        "Nearly parallel tensors are interpolated linearly.",
    .when_to_use = "blending exactly two models, often with a gradient of t over the layers "
                   "(e.g. attention from one model, MLPs from the other)",
    .prepare = prepare,
    .merge_lanes = merge_lanes,
};

}  // namespace weld
