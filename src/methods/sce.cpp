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
#include <optional>
#include <span>
#include <vector>

#include "methods/all_methods.h"
#include "methods/selection_passes.h"
#include "tensor/lane_sum.h"
#include "tensor/lane_sums.h"
#include "tensor/select.h"
#include "tensor/vector_clones.h"

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

// Elements per block of the per-element loops: their double arrays stay in L1, and each
// loop over a block is a straight pass over one model, which vectorises.
constexpr std::size_t kBlock = 512;

// The population variance across the models of every element of a tile, as float bits
// (variance >= 0, so the bits order it), into keys[0, tile.n). Model by model over blocks;
// each element's sums still run over the models in order.
WELD_VECTOR_CLONES void variance_keys(const SceStats& stats, const Tile& tile, std::size_t base,
                                      std::uint32_t* keys) noexcept {
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
  if (stats.keep_none) return false;
  return rank_pair(~key, index) <= stats.last_kept;
}

// Whether selection keeps each element of a tile, as 1 or 0 in keep[0, tile.n). Only with a
// selection: without one (select_topk 1, the default) every element is kept, and the loops
// below take that case as a template argument instead of reading a mask of ones.
void kept_elements(const MethodCall& call, const SceStats& stats, const Tile& tile, std::span<std::uint32_t> keep) {
  variance_keys(stats, tile, *call.base, keep.data());
  for (std::size_t j = 0; j < tile.n; ++j) keep[j] = kept(stats, keep[j], tile.begin + j) ? 1u : 0u;
}

// Select: the elements of largest variance, k = int(count_nonzero(var) * select_topk) of them
// (one pass to count, then the selection's), largest first and ties to the lower index.
void select_top_variance(const MethodCall& call, SceStats& stats, const TensorReader& reader) {
  std::uint64_t n_nonzero = 0;
  std::vector<std::uint32_t> variance;
  reader.for_each_tile([&](const Tile& tile) {
    variance.resize(tile.n);
    variance_keys(stats, tile, *call.base, variance.data());
    for (std::uint32_t key : variance) n_nonzero += key != 0;
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
  run_selection_passes(reader, std::span(&selector, 1), [&](const Tile& tile, std::size_t, std::span<std::uint32_t> keys) {
    variance_keys(stats, tile, *call.base, keys.data());
    for (std::uint32_t& key : keys) key = ~key;  // largest first
  });
  stats.last_kept = selector.result(0);
}

// x - b where selection keeps element j (always without one), else 0.
template <bool kSelect>
float selected_delta(const float* x, const float* b, const std::uint32_t* keep, std::size_t j) noexcept {
  const float diff = x[j] - b[j];  // always computed, so that the select is a blend
  if constexpr (kSelect) return keep[j] ? diff : 0.0f;
  return diff;
}

// Calculate: e_i = mean(d_i^2) / sum_j mean(d_j^2) over the selected elements (uniform when
// that sum is below 1e-6).
template <bool kSelect>
WELD_VECTOR_CLONES void add_squares(const float* x, const float* b, const std::uint32_t* keep, std::size_t n,
                                    LaneSum& sum) noexcept {
  sum.add(n, [&](std::size_t j) {
    const double d = selected_delta<kSelect>(x, b, keep, j);
    return d * d;
  });
}

// add_squares<false> over 16 lanes of (x, b): double(x - b)^2, the difference in float.
struct DeltaSquare {
  [[gnu::always_inline]] void operator()(const Lanes* x, DoubleLanes* t) const {
    const DoubleLanes d = __builtin_convertvector(x[0] - x[1], DoubleLanes);
    t[0] = d * d;
  }
};

// Elements per step of the fused calculate pass: each model's run over them finds the base's
// values still in L1.
constexpr std::size_t kSquaresStep = 4096;

// The calculate pass straight from the inputs' bytes, where there is no selection: the next
// block.n terms of each sum.
void add_squares_lanes(const MethodCall& call, const SceStats& stats, const LaneSpan& block,
                       std::vector<LaneSum>& squares) {
  const std::size_t size = dtype_size(block.dtype);
  for (std::size_t first = 0; first < block.n; first += kSquaresStep) {
    const std::size_t n = std::min(kSquaresStep, block.n - first);
    for (std::size_t i = 0; i < stats.inputs.size(); ++i) {
      const std::byte* pair[] = {block.inputs[stats.inputs[i]] + first * size, block.inputs[*call.base] + first * size};
      add_lane_sums<2>(LaneSpan{pair, nullptr, n, block.dtype}, std::array{&squares[i]}, DeltaSquare{});
    }
  }
}

void add_squares_tiles(const MethodCall& call, const SceStats& stats, const TensorReader& reader,
                       std::vector<LaneSum>& squares) {
  std::vector<std::uint32_t> keep;
  reader.for_each_tile([&](const Tile& tile) {
    if (stats.select) {
      keep.resize(tile.n);
      kept_elements(call, stats, tile, keep);
    }
    for (std::size_t i = 0; i < stats.inputs.size(); ++i) {
      const float* x = tile.inputs[stats.inputs[i]];
      const float* b = tile.inputs[*call.base];
      (stats.select ? add_squares<true> : add_squares<false>)(x, b, keep.data(), tile.n, squares[i]);
    }
    return true;
  });
}

void calculate_weights(const MethodCall& call, SceStats& stats, const TensorReader& reader) {
  std::vector<LaneSum> squares(stats.inputs.size());
  if (reader.has_lanes() && !stats.select)
    reader.for_each_lane_block(0, reader.numel, [&](const LaneSpan& block, std::uint64_t) {
      add_squares_lanes(call, stats, block, squares);
      return true;
    });
  else
    add_squares_tiles(call, stats, reader, squares);
  std::vector<double> means;
  double sum = 0.0;
  for (const LaneSum& sq : squares) sum += means.emplace_back(sq.value() / static_cast<double>(reader.numel));
  for (double w : means)
    stats.e.push_back(std::abs(sum) < kMinWeightSum ? 1.0 / static_cast<double>(means.size()) : w / sum);
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

// One model's share of the erase: where its selected d = x - b has the elected sign (that of
// sum), adds e d to mixed and e to divisor; the first model's shares are added to zero
// instead, which starts both sums without a pass to clear them. (A function of plain
// pointers, which the compiler vectorises; written inline over the block's arrays it did not.)
template <bool kSelect, bool kFirst>
void add_agreeing(const float* x, const float* b, const std::uint32_t* keep, const double* sum, double e,
                  double* mixed, double* divisor, std::size_t m) noexcept {
  for (std::size_t j = 0; j < m; ++j) {
    const double d = selected_delta<kSelect>(x, b, keep, j);
    const double signed_d = sum[j] >= 0.0 ? d : -d;  // > 0 where d has the elected sign
    mixed[j] = (kFirst ? 0.0 : mixed[j]) + (signed_d > 0.0 ? e * d : 0.0);
    divisor[j] = (kFirst ? 0.0 : divisor[j]) + (signed_d > 0.0 ? e : 0.0);
  }
}

// Erase, on elements [first, first + m) of a tile (m <= kBlock): s = sign of sum_i d_i (zero
// counts as +), keep the d_i that agree with it, and mix them by the weights e_i.
template <bool kSelect>
WELD_VECTOR_CLONES void erase_block(const MethodCall& call, const SceStats& stats, const Tile& tile,
                                    const std::uint32_t* keep, std::size_t first, std::size_t m) noexcept {
  std::array<double, kBlock> sum, mixed, divisor;
  const float* b = tile.inputs[*call.base] + first;
  const auto x = [&](std::size_t i) { return tile.inputs[stats.inputs[i]] + first; };
  // Only the sign of sum is used, and there starting from the first model's d instead of
  // 0 + d (which differ only in the sign of a zero) changes nothing.
  for (std::size_t j = 0; j < m; ++j) sum[j] = selected_delta<kSelect>(x(0), b, keep, j);
  for (std::size_t i = 1; i < stats.inputs.size(); ++i)
    for (std::size_t j = 0; j < m; ++j) sum[j] += selected_delta<kSelect>(x(i), b, keep, j);
  add_agreeing<kSelect, true>(x(0), b, keep, sum.data(), stats.e[0], mixed.data(), divisor.data(), m);
  for (std::size_t i = 1; i < stats.inputs.size(); ++i)
    add_agreeing<kSelect, false>(x(i), b, keep, sum.data(), stats.e[i], mixed.data(), divisor.data(), m);
  for (std::size_t j = 0; j < m; ++j)
    tile.out[first + j] = static_cast<float>(b[j] + mixed[j] / std::max(divisor[j], kMinWeightSum));
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const SceStats&>(*tile.stats);
  if (stats.inputs.empty()) {
    const float* b = tile.inputs[*call.base];
    std::copy(b, b + tile.n, tile.out);
    return;
  }
  std::span<std::uint32_t> keep;
  if (stats.select) {
    keep = tile.scratch->keys(tile.n);
    kept_elements(call, stats, tile, keep);
  }
  for (std::size_t first = 0; first < tile.n; first += kBlock) {
    const std::size_t m = std::min(kBlock, tile.n - first);
    if (stats.select)
      erase_block<true>(call, stats, tile, keep.data() + first, first, m);
    else
      erase_block<false>(call, stats, tile, nullptr, first, m);
  }
}

// erase_block<false> over 16 lanes: the same operations in the same order, a half of 8
// doubles at a time (tensor/lanes.h), for N models with the base at kBase (constants, so
// that their values stay in registers). Model i is input i, or i + 1 from the base on.
template <std::size_t N, std::size_t kBase>
struct EraseLanes {
  static constexpr std::size_t kInputs = N + 1;
  std::array<double, N> e;

  [[gnu::always_inline]] WELD_TARGET_LANES void operator()(const Lanes* x, Lanes& out) const {
    DoubleLanes result;
    const DoubleLanes b = __builtin_convertvector(x[kBase], DoubleLanes);
    DoubleLanes deltas[N];
    for (std::size_t i = 0; i < N; ++i) deltas[i] = __builtin_convertvector(x[i + (i >= kBase)] - x[kBase], DoubleLanes);
    for (int half = 0; half < 2; ++half) {
      HalfDoubleLanes d[N];
      for (std::size_t i = 0; i < N; ++i) lane_half(deltas[i], half, d[i]);
      HalfDoubleLanes sum = d[0];
      for (std::size_t i = 1; i < N; ++i) sum += d[i];
      const HalfDoubleBits nonnegative = sum >= 0.0;
      HalfDoubleLanes mixed{}, divisor{};  // +0, as the first model's shares are added to
      for (std::size_t i = 0; i < N; ++i) {
        HalfDoubleLanes signed_d, term, weight;
        lane_select(nonnegative, d[i], -d[i], signed_d);
        const HalfDoubleBits agrees = signed_d > 0.0;
        lane_select(agrees, e[i] * d[i], HalfDoubleLanes{}, term);
        lane_select(agrees, HalfDoubleLanes{} + e[i], HalfDoubleLanes{}, weight);
        mixed = mixed + term;
        divisor = divisor + weight;
      }
      HalfDoubleLanes floored, base_half;  // floored = std::max(divisor, kMinWeightSum)
      lane_select(divisor < kMinWeightSum, HalfDoubleLanes{} + kMinWeightSum, divisor, floored);
      lane_half(b, half, base_half);
      const HalfDoubleLanes merged = base_half + mixed / floored;
      for (int lane = 0; lane < 8; ++lane) result[8 * half + lane] = merged[lane];
    }
    out = __builtin_convertvector(result, Lanes);
  }
};

// stats.inputs are the inputs other than the base, in order, as EraseLanes takes them.
template <std::size_t N>
bool erase_lanes(const MethodCall& call, const SceStats& stats, const LaneSpan& values) noexcept {
  std::array<double, N> e;
  std::copy_n(stats.e.begin(), N, e.begin());
  bool fused = false;
  with_constant_index<N + 1>(*call.base, [&](auto base) { fused = run_lanes_fused(values, EraseLanes<N, base>{e}); });
  return fused;
}

bool merge_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  const auto& stats = static_cast<const SceStats&>(*tile.stats);
  if (stats.select) return false;  // merge_tile selects
  switch (stats.inputs.size()) {
    case 1: return erase_lanes<1>(call, stats, tile.values);
    case 2: return erase_lanes<2>(call, stats, tile.values);
    case 3: return erase_lanes<3>(call, stats, tile.values);
    case 4: return erase_lanes<4>(call, stats, tile.values);
    default: return false;  // none (the base is copied), or more than the fused loops take
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
    .identity_input = nullptr,
    .description =
        "Select, Calculate, Erase: keeps the elements whose task vectors vary most across "
        "models (select_topk), weights each model by the energy of its task vector, and "
        "merges with TIES sign election. Needs no weights.",
    .when_to_use = "fusing several task vectors when you have no weights to tune",
    .prepare = prepare,
    .merge_lanes = merge_lanes,
};

}  // namespace weld
