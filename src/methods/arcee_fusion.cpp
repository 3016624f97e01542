// arcee_fusion: Arcee Fusion (Arcee AI, 2025). Takes the other model's value only where the
// change from the base is an outlier in importance:
//   KL_row = sum_row p log(p / q),  p = softmax(b) + 1e-8,  q = softmax(a) + 1e-8
//   I = |b - a| KL_row;   out = a + (b - a) [I >= median(I) + 1.5 (Q3(I) - Q1(I))]
// with a the base and b the other model. Softmax and KL run along the last axis, one KL per
// row (a 1-D tensor is one row). Quantile q is the sorted element floor(q (n - 1)).
// weld: quantiles are exact; mergekit estimates them from 1e6 random samples past 1e6 elements.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "methods/all_methods.h"
#include "methods/selection_passes.h"

namespace weld {
namespace {

// Added to both distributions before the log (mergekit's), so an underflowed 0 stays finite.
constexpr double kSmoothing = 1e-8;

// Total order of floats as unsigned keys (negatives reversed below positives), for
// selection: importance is >= 0 in exact arithmetic but may round just below 0.
std::uint32_t order_key(float x) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

// softmax(x) + kSmoothing, in double.
void smoothed_softmax(const float* x, std::size_t n, std::vector<double>& p) {
  const float peak = *std::max_element(x, x + n);
  p.resize(n);
  double sum = 0.0;
  for (std::size_t j = 0; j < n; ++j) {
    p[j] = std::exp(double{x[j]} - peak);
    sum += p[j];
  }
  for (double& v : p) v = v / sum + kSmoothing;
}

// KL(softmax(b) || softmax(a)) of one row, both smoothed.
double row_kl(const float* a, const float* b, std::size_t n, std::vector<double>& p,
              std::vector<double>& q) {
  smoothed_softmax(b, n, p);
  smoothed_softmax(a, n, q);
  double kl = 0.0;
  for (std::size_t j = 0; j < n; ++j) kl += p[j] * std::log(p[j] / q[j]);
  return kl;
}

// The inverse of order_key.
float from_order_key(std::uint32_t key) noexcept {
  const std::uint32_t bits = (key & 0x80000000u) != 0 ? key & 0x7fffffffu : ~key;
  float x;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

// One KL per row (found in a pass over whole-row tiles), and the threshold on importance.
struct FusionStats final : TensorStats {
  std::uint64_t row_length = 1;
  std::vector<double> kl;  // per row
  float threshold = 0.0f;
};

std::size_t other(const MethodCall& call) { return *call.base == 0 ? 1 : 0; }

// Calls fn(j, importance_j) for the elements of a whole-row tile.
template <typename Fn>
void for_each_importance(const MethodCall& call, const FusionStats& stats, const Tile& tile, Fn fn) {
  const float* a = tile.inputs[*call.base];
  const float* b = tile.inputs[other(call)];
  for (std::size_t start = 0; start < tile.n; start += stats.row_length) {
    const double kl = stats.kl[(tile.begin + start) / stats.row_length];
    for (std::size_t j = start; j < start + stats.row_length; ++j)
      fn(j, static_cast<float>(std::abs(b[j] - a[j]) * kl));
  }
}

std::unique_ptr<TensorStats> prepare(const MethodCall& call, const TensorReader& reader) {
  auto stats = std::make_unique<FusionStats>();
  if (reader.numel == 0) return stats;
  stats->row_length = reader.shape.empty() ? reader.numel : reader.shape.back();
  std::vector<double> p, q;
  reader.for_each_tile([&](const Tile& tile) {
    for (std::size_t start = 0; start < tile.n; start += stats->row_length)
      stats->kl.push_back(row_kl(tile.inputs[*call.base] + start, tile.inputs[other(call)] + start,
                                 stats->row_length, p, q));
    return true;
  });
  // The quartiles of importance, exactly (sorted element floor(q (n - 1))).
  const std::uint64_t last = reader.numel - 1;
  StreamedSelector selector(reader.numel, {last / 4, last / 2, 3 * last / 4});
  run_selection_passes(reader, std::span(&selector, 1), [&](const Tile& tile, std::size_t, std::span<std::uint32_t> keys) {
    for_each_importance(call, *stats, tile, [&](std::size_t j, float importance) { keys[j] = order_key(importance); });
  });
  const auto quantile = [&](std::size_t i) { return from_order_key(static_cast<std::uint32_t>(selector.result(i) >> 32)); };
  const float q1 = quantile(0), median = quantile(1), q3 = quantile(2);
  stats->threshold = median + 1.5f * (q3 - q1);
  return stats;
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const FusionStats&>(*tile.stats);
  const float* a = tile.inputs[*call.base];
  const float* b = tile.inputs[other(call)];
  for_each_importance(call, stats, tile, [&](std::size_t j, float importance) {
    tile.out[j] = importance >= stats.threshold ? a[j] + (b[j] - a[j]) : a[j];
  });
}

}  // namespace

const MethodDescriptor kArceeFusion = {
    .name = "arcee_fusion",
    .pretty_name = "Arcee Fusion",
    .summary = "take the other model's values where their importance is an outlier",
    .formula = "out = a + (b - a) [|b - a| KL_row(b || a) >= median + 1.5 IQR]",
    .paper =
        "Arcee AI, Meet MergeKit v0.1: Arcee Fusion, expanded model support, multi-GPU "
        "acceleration (blog), 2025",
    .url =
        "https://www.arcee.ai/blog/meet-mergekit-v0-1-arcee-fusion-expanded-model-support-"
        "multi-gpu-acceleration",
    .params = {},
    .base = BaseUse::kRequired,
    .min_inputs = 2,
    .max_inputs = 2,
    .validate = nullptr,
    .merge_tile = merge_tile,
    .identity_input = nullptr,
    .description =
        "Scores each element by how far the other model moved it times how much the row's "
        "softmax distribution changed (KL divergence), and takes the other model's value only "
        "where the score is an outlier (above median + 1.5 IQR).",
    .when_to_use = "importing only a fine-tune's most significant changes into its base",
    .prepare = prepare,
    .whole_rows = true,
};

}  // namespace weld
