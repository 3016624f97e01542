// sce: Select, Calculate, Erase (Wan et al., FuseChat 2024), on task vectors d_i = x_i - b:
//   select:    with select_topk < 1, keep the k = int(count_nonzero(var) * select_topk)
//              elements of largest population variance across the d_i (one mask for all)
//   calculate: e_i = mean(d_i^2) / sum_j mean(d_j^2)   (uniform 1/N when that sum < 1e-6)
//   erase:     s = sign of sum_i d_i (zero counts as +); m_i = [sign(d_i) == s]
//   out = b + sum_i e_i m_i d_i / max(sum_i e_i m_i, 1e-6)
// No per-model weights. Ties in variance at the top-k boundary go to the lower index.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <span>
#include <vector>

#include "methods/all_methods.h"
#include "tensor/select.h"
#include "tensor/streamed_select.h"

namespace weld {
namespace {

enum : std::size_t { kSelectTopk, kInt8Mask };

constexpr ParamDef kParams[] = {
    {"select_topk", ParamScope::kGlobal, false, 1.0,
     "fraction of the elements with nonzero variance across the models that is kept"},
    {"int8_mask", ParamScope::kGlobal, false, 0.0,
     "accepted for mergekit compatibility (a memory saving there); no effect"},
};

// Below this the calculated weights are not normalised (mergekit's threshold), and the
// divisor of the erased sum is floored at it.
constexpr double kMinWeightSum = 1e-6;

// What the tiles need: which elements survive selection, and each model's weight e_i.
struct SceStats final : TensorStats {
  std::vector<std::size_t> inputs;  // the non-base inputs
  bool select = false;              // select_topk < 1
  std::uint64_t last_kept = 0;      // with select: kept iff (~variance key, index) <= this
  bool keep_none = false;           // with select: k = 0
  std::vector<double> e;
};

// The population variance across the models of every element of a tile, as float bits
// (variance >= 0, so the bits order it), into keys[0, tile.n). Model by model over blocks,
// so that the loops vectorise; each element's sums still run over the models in order.
void variance_keys(const SceStats& stats, const Tile& tile, std::size_t base, std::uint32_t* keys) {
  constexpr std::size_t kBlock = 512;
  std::array<double, kBlock> mean, var;
  const double n_models = static_cast<double>(stats.inputs.size());
  const float* b = tile.inputs[base];
  for (std::size_t begin = 0; begin < tile.n; begin += kBlock) {
    const std::size_t m = std::min(kBlock, tile.n - begin);
    std::fill_n(mean.begin(), m, 0.0);
    std::fill_n(var.begin(), m, 0.0);
    for (std::size_t input : stats.inputs) {
      const float* x = tile.inputs[input] + begin;
      for (std::size_t j = 0; j < m; ++j) mean[j] += x[j] - b[begin + j];
    }
    for (std::size_t j = 0; j < m; ++j) mean[j] /= n_models;
    for (std::size_t input : stats.inputs) {
      const float* x = tile.inputs[input] + begin;
      for (std::size_t j = 0; j < m; ++j) {
        const double centred = (x[j] - b[begin + j]) - mean[j];
        var[j] += centred * centred;
      }
    }
    for (std::size_t j = 0; j < m; ++j) keys[begin + j] = magnitude_key(static_cast<float>(var[j] / n_models));
  }
}

// Whether selection keeps element `index`, whose variance key is `key`.
bool kept(const SceStats& stats, std::uint32_t key, std::uint64_t index) {
  if (!stats.select) return true;
  if (stats.keep_none) return false;
  return rank_pair(~key, index) <= stats.last_kept;
}

// Calls fn(tile, keys) for every tile, keys its elements' variance keys.
template <typename Fn>
void for_each_tile_with_keys(const MethodCall& call, const SceStats& stats, const TensorReader& reader, Fn fn) {
  std::vector<std::uint32_t> keys;
  reader.for_each_tile([&](const Tile& tile) {
    keys.resize(tile.n);
    variance_keys(stats, tile, *call.base, keys.data());
    return fn(tile, std::span<std::uint32_t>(keys));
  });
}

// Select: the elements of largest variance, k = int(count_nonzero(var) * select_topk) of them
// (one pass to count, then the selection's), largest first and ties to the lower index.
void select_top_variance(const MethodCall& call, SceStats& stats, const TensorReader& reader) {
  std::uint64_t n_nonzero = 0;
  for_each_tile_with_keys(call, stats, reader, [&](const Tile&, std::span<std::uint32_t> keys) {
    for (std::uint32_t key : keys) n_nonzero += key != 0;
    return true;
  });
  const double wanted = std::floor(static_cast<double>(n_nonzero) * call.global(kSelectTopk));
  const std::uint64_t k = wanted > 0.0 ? static_cast<std::uint64_t>(wanted) : 0;
  stats.select = true;
  if (k == 0) {
    stats.keep_none = true;
    return;
  }
  StreamedSelector selector(reader.numel, {k - 1});
  while (!selector.done()) {
    for_each_tile_with_keys(call, stats, reader, [&](const Tile&, std::span<std::uint32_t> keys) {
      for (std::uint32_t& key : keys) key = ~key;  // largest first
      selector.add(keys);
      return !selector.done();
    });
    selector.end_pass();
  }
  stats.last_kept = selector.result(0);
}

// Calculate: e_i = mean(d_i^2) / sum_j mean(d_j^2) over the selected elements (uniform when
// that sum is below 1e-6).
void calculate_weights(const MethodCall& call, SceStats& stats, const TensorReader& reader) {
  std::vector<double> squares(stats.inputs.size(), 0.0);
  for_each_tile_with_keys(call, stats, reader, [&](const Tile& tile, std::span<std::uint32_t> keys) {
    const float* b = tile.inputs[*call.base];
    for (std::size_t i = 0; i < stats.inputs.size(); ++i) {
      const float* x = tile.inputs[stats.inputs[i]];
      for (std::size_t j = 0; j < tile.n; ++j) {
        if (!kept(stats, keys[j], tile.begin + j)) continue;
        const float d = x[j] - b[j];
        squares[i] += double{d} * d;
      }
    }
    return true;
  });
  double sum = 0.0;
  for (double& sq : squares) sum += (sq /= static_cast<double>(reader.numel));
  for (double w : squares)
    stats.e.push_back(std::abs(sum) < kMinWeightSum ? 1.0 / static_cast<double>(squares.size()) : w / sum);
}

std::unique_ptr<TensorStats> prepare(const MethodCall& call, const TensorReader& reader) {
  auto stats = std::make_unique<SceStats>();
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != *call.base) stats->inputs.push_back(i);
  if (stats->inputs.empty() || reader.numel == 0) return stats;
  if (call.global(kSelectTopk) < 1.0) select_top_variance(call, *stats, reader);
  calculate_weights(call, *stats, reader);
  return stats;
}

// Erase: s = sign of sum_i d_i (zero counts as +), keep the d_i that agree with it.
void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const SceStats&>(*tile.stats);
  const float* b = tile.inputs[*call.base];
  if (stats.inputs.empty()) {
    std::copy(b, b + tile.n, tile.out);
    return;
  }
  const std::span<std::uint32_t> keys = tile.scratch->keys(tile.n);
  variance_keys(stats, tile, *call.base, keys.data());
  const std::span<float> d = tile.scratch->floats(0, stats.inputs.size());
  for (std::size_t j = 0; j < tile.n; ++j) {
    const bool selected = kept(stats, keys[j], tile.begin + j);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = selected ? tile.inputs[stats.inputs[i]][j] - b[j] : 0.0f;
    double sum = 0.0;
    for (float v : d) sum += v;
    const bool positive = sum >= 0.0;
    double mixed = 0.0;
    double divisor = 0.0;
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (positive ? d[i] > 0.0f : d[i] < 0.0f) {
        mixed += stats.e[i] * d[i];
        divisor += stats.e[i];
      }
    }
    tile.out[j] = static_cast<float>(b[j] + mixed / std::max(divisor, kMinWeightSum));
  }
}

}  // namespace

const MethodDescriptor kSce = {
    .name = "sce",
    .pretty_name = "SCE",
    .summary =
        "keep high-variance elements, weight task vectors by their energy, drop minority signs",
    .formula = "out = b + sum_i e_i m_i d_i / sum_i e_i m_i, e_i ~ mean(d_i^2)",
    .paper = "Wan et al., FuseChat: Knowledge Fusion of Chat Models, 2024",
    .url = "https://arxiv.org/abs/2408.07990",
    .params = kParams,
    .base = BaseUse::kRequired,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = nullptr,
    .merge_tile = merge_tile,
    .merge_tensor = nullptr,
    .identity_input = nullptr,
    .description =
        "Select, Calculate, Erase: keeps the elements whose task vectors vary most across "
        "models (select_topk), weights each model by the energy of its task vector, and "
        "merges with TIES sign election. Needs no weights.",
    .when_to_use = "fusing several task vectors when you have no weights to tune",
    .prepare = prepare,
};

}  // namespace weld
