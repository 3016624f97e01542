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
#include <array>
#include <cmath>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "methods/all_methods.h"
#include "methods/gram.h"
#include "methods/row_runs.h"
#include "tensor/lane_sum.h"
#include "tensor/vector_clones.h"
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

// The interpolation ratio of every row (one row: the whole tensor), found in one pass that
// sums, per row, the Gram matrix of the offsets.
struct StockStats final : TensorStats {
  std::uint64_t row_length = 1;
  std::vector<double> ratio;  // per row
};

std::vector<std::size_t> fine_tunes(const MethodCall& call) {
  std::vector<std::size_t> inputs;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != *call.base) inputs.push_back(i);
  return inputs;
}

// t from the Gram matrix g (n_models x n_models) of the offsets.
double stock_ratio(std::span<const double> g, std::size_t n_models, std::optional<std::uint64_t> row) {
  double cos_sum = 0.0;
  for (std::size_t i = 0; i < n_models; ++i)
    for (std::size_t k = i + 1; k < n_models; ++k) {
      const double norms = std::sqrt(g[i * n_models + i]) * std::sqrt(g[k * n_models + k]);
      cos_sum += std::clamp(g[i * n_models + k] / std::max(norms, kMinNormProduct), -1.0, 1.0);
    }
  const double n = static_cast<double>(n_models);
  const double cos = cos_sum / (n * (n - 1.0) / 2.0);
  const double denominator = 1.0 + (n - 1.0) * cos;
  if (denominator < kMinDenominator)
    fail(
        "the fine-tunes' offsets from the base cancel out{} (mean cosine {:g}), so "
        "t = N cos / (1 + (N - 1) cos) is undefined",
        row ? fmt::format(" in row {}", *row) : "", cos);
  return n * cos / denominator;
}

std::unique_ptr<TensorStats> prepare(const MethodCall& call, const TensorReader& reader) {
  auto stats = std::make_unique<StockStats>();
  const bool per_row = call.global(kFilterWise) != 0.0 && !reader.shape.empty() && reader.shape.back() > 0;
  stats->row_length = per_row ? reader.shape.back() : std::max<std::uint64_t>(1, reader.numel);
  const std::uint64_t rows = reader.numel / stats->row_length;
  const std::vector<std::size_t> inputs = fine_tunes(call);
  const std::size_t n_models = inputs.size(), per_row_sums = gram_sums(n_models);
  const std::vector<LaneSum> gram = gram_of_rows(reader, inputs, call.base, stats->row_length);
  for (std::uint64_t row = 0; row < rows; ++row) {
    const std::vector<double> g = gram_matrix(std::span(gram).subspan(row * per_row_sums, per_row_sums), n_models);
    stats->ratio.push_back(stock_ratio(g, n_models, per_row ? std::optional(row) : std::nullopt));
  }
  return stats;
}

// Elements per block of merge_tile: the block's sums stay in L1.
constexpr std::size_t kBlock = 1024;

// out = t mean_i x_i + (1 - t) b on elements [first, first + m) of a tile (m <= kBlock), the
// fine-tunes summed in input order.
WELD_VECTOR_CLONES void mix_block(const MethodCall& call, const Tile& tile, double ratio, std::size_t first,
                                  std::size_t m) noexcept {
  std::array<double, kBlock> sum{};
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == *call.base) continue;
    const float* x = tile.inputs[i] + first;
    for (std::size_t j = 0; j < m; ++j) sum[j] += x[j];
  }
  const double n_models = static_cast<double>(call.n_inputs - 1);
  const float* b = tile.inputs[*call.base] + first;
  for (std::size_t j = 0; j < m; ++j)
    tile.out[first + j] = static_cast<float>(ratio * (sum[j] / n_models) + (1.0 - ratio) * b[j]);
}

void merge_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const StockStats&>(*tile.stats);
  for_each_row_run(tile.begin, tile.n, stats.row_length, [&](std::uint64_t row, std::size_t first, std::size_t count) {
    for (std::size_t begin = first; begin < first + count; begin += kBlock)
      mix_block(call, tile, stats.ratio[row], begin, std::min(kBlock, first + count - begin));
  });
}

// mix_block over 16 lanes: the same operations in the same order. kN inputs with the base
// input kBase, or with kN = 0 any number, as the call says. With both constants the inputs'
// lanes stay in registers and the division by the number of models, a power of two for the
// usual two fine-tunes, is the multiplication by its reciprocal that gives the same values.
template <std::size_t kN, std::size_t kBase>
struct StockMix {
  static constexpr std::size_t kInputs = kN;
  double ratio;
  std::size_t n_inputs, base;

  [[gnu::always_inline]] WELD_TARGET_LANES void operator()(const Lanes* x, Lanes& out) const {
    const std::size_t n = kN != 0 ? kN : n_inputs, b = kN != 0 ? kBase : base;
    const double n_models = static_cast<double>(n - 1);
    DoubleLanes sum{};
    for (std::size_t i = 0; i < n; ++i)
      if (i != b) sum += __builtin_convertvector(x[i], DoubleLanes);
    const DoubleLanes base_values = __builtin_convertvector(x[b], DoubleLanes);
    out = __builtin_convertvector(ratio * (sum / n_models) + (1.0 - ratio) * base_values, Lanes);
  }
};

template <std::size_t kN, std::size_t kBase>
bool mix_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  const auto& stats = static_cast<const StockStats&>(*tile.stats);
  const LaneSpan& s = tile.values;
  const std::size_t size = dtype_size(s.dtype);
  std::array<const std::byte*, kMaxLaneInputs> at;
  bool fused = true;
  for_each_row_run(tile.begin, s.n, stats.row_length, [&](std::uint64_t row, std::size_t first, std::size_t count) {
    for (std::size_t i = 0; i < s.inputs.size(); ++i) at[i] = s.inputs[i] + first * size;
    const StockMix<kN, kBase> mix{stats.ratio[row], call.n_inputs, *call.base};
    fused = fused && run_lanes_fused(LaneSpan{std::span(at.data(), s.inputs.size()), s.out + first * size, count,
                                              s.dtype}, mix);
  });
  return fused;
}

// Two fine-tunes and the base, the common case, with constants.
constexpr std::size_t kUsualInputs = 3;

bool merge_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  if (call.n_inputs != kUsualInputs) return mix_lanes<0, 0>(call, tile);
  bool fused = false;
  with_constant_index<kUsualInputs>(*call.base,
                                    [&](auto base) { fused = mix_lanes<kUsualInputs, base>(call, tile); });
  return fused;
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
    .merge_tile = merge_tile,
    .identity_input = nullptr,
    .description =
        "Measures how much the fine-tunes' offsets from the base agree (their mean pairwise "
        "cosine) and moves from the base towards the fine-tunes' average by the ratio that "
        "geometry implies: close agreement keeps the average, orthogonal offsets stay near the "
        "base. Needs no weights.",
    .when_to_use = "several fine-tunes of one base from different seeds or data orders, when you "
                   "have no weights to tune",
    .prepare = prepare,
    .merge_lanes = merge_lanes,
};

}  // namespace weld
