// nearswap: NearSwap (alchemonaut, QuartetAnemoi-70B). Takes the other model's value where it
// is near the base's and keeps the base's where the two are far apart:
//   lambda = clamp(t / max(|a - b|, 1e-6), 0, 1);   out = lambda b + (1 - lambda) a
// with a the base and b the other model. Element-wise; exactly two models. A t <= 0 keeps the
// base everywhere, as in mergekit (older mergekit rejected it).
#include <algorithm>
#include <cmath>

#include "methods/all_methods.h"
#include "tensor/vector_clones.h"

namespace weld {
namespace {

enum : std::size_t { kT };

constexpr ParamDef kParams[] = {
    {"t", ParamScope::kGlobal, true, 0.0,
     "sameness threshold: differences up to t take the other model's value"},
};

// mergekit's floor on |a - b|, so equal values give t / 1e-6 rather than a division by zero.
constexpr float kMinDifference = 1e-6f;

WELD_VECTOR_CLONES void near_swap(const float* a, const float* b, float t, float* out, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) {
    const float lambda = std::clamp(t / std::max(std::abs(a[j] - b[j]), kMinDifference), 0.0f, 1.0f);
    out[j] = lambda * b[j] + (1.0f - lambda) * a[j];
  }
}

std::size_t other_input(const MethodCall& call) { return *call.base == 0 ? 1 : 0; }

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  near_swap(tile.inputs[*call.base], tile.inputs[other_input(call)], static_cast<float>(call.global(kT)),
            tile.out, tile.n);
}

// near_swap over 16 lanes, with std::max and std::clamp spelt out as the comparisons they
// make (so that NaN goes through them the same way). Which input is the base is part of the
// type: with both indices fixed, the two inputs' lanes stay in registers.
template <std::size_t kBase>
struct NearSwap {
  static constexpr std::size_t kInputs = 2;
  float t;

  [[gnu::always_inline]] void operator()(const Lanes* x, Lanes& out) const {
    const Lanes& a = x[kBase];
    const Lanes& b = x[1 - kBase];
    const Lanes zero = {}, one = zero + 1.0f, min_difference = zero + kMinDifference;
    Lanes d;
    lane_abs(a - b, d);
    d = d < min_difference ? min_difference : d;
    Lanes lambda = t / d;
    lambda = lambda < zero ? zero : one < lambda ? one : lambda;
    out = lambda * b + (1.0f - lambda) * a;
  }
};

bool merge_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  const auto t = static_cast<float>(call.global(kT));
  with_constant_index<2>(*call.base, [&](auto base) { run_lanes(tile.values, NearSwap<base>{t}); });
  return true;
}

}  // namespace

const MethodDescriptor kNearswap = {
    .name = "nearswap",
    .pretty_name = "NearSwap",
    .summary = "take the other model's values where they are near the base's",
    .formula = "out = l b + (1 - l) a, l = clamp(t / max(|a - b|, 1e-6), 0, 1)",
    .paper = "alchemonaut, QuartetAnemoi-70B-t0.0001 (model card), 2024",
    .url = "https://huggingface.co/alchemonaut/QuartetAnemoi-70B-t0.0001",
    .params = kParams,
    .base = BaseUse::kRequired,
    .min_inputs = 2,
    .max_inputs = 2,
    .validate = nullptr,
    .merge_tile = merge_tile,
    .identity_input = nullptr,
    .description =
        "Interpolates element by element from the base towards the other model, fully where the "
        "two are within t of each other and less the further apart they are, so that only "
        "nearby values are swapped in.",
    .when_to_use = "blending a model into its base while leaving its largest departures out",
    .merge_lanes = merge_lanes,
};

}  // namespace weld
