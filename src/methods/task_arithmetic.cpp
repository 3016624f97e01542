// The task-arithmetic family: one pipeline over task vectors d_i = x_i - b, its rows
// differing only in how d_i is sparsified and whether signs are elected (as mergekit's
// GeneralizedTaskArithmeticMerge):
//   1. sparsify each d_i with that model's density (sparsify.h);   2. wd_i = w_i d_i;
//   3. with sign consensus (consensus.h): mixed = sum m_i wd_i, divisor = sum m_i w_i;
//      without: mixed = sum wd_i, divisor = sum w_i (below 1e-8 in magnitude: 1);
//   4. normalize: mixed /= divisor;  5. out = b + lambda * mixed.
// Papers: Task Arithmetic (Ilharco et al., 2023), TIES-Merging (Yadav et al., 2023),
// DARE (Yu et al., 2024), Model Breadcrumbs (Davari & Belilovsky, 2024), DELLA (Deep et al., 2024).
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <vector>

#include "methods/all_methods.h"
#include "methods/consensus.h"
#include "methods/selection_passes.h"
#include "methods/sparsify.h"
#include "tensor/vector_clones.h"
#include "util/check.h"
#include "util/error.h"

namespace weld {
namespace {

struct ParamList {
  std::array<ParamDef, 10> defs{};
  std::size_t count = 0;
  constexpr void add(ParamDef def) { defs[count++] = def; }
  constexpr std::span<const ParamDef> span() const { return {defs.data(), count}; }
  constexpr std::size_t index_of(std::string_view name) const {
    for (std::size_t i = 0; i < count; ++i)
      if (defs[i].name == name) return i;
    return count;
  }
};

constexpr ParamList family_params(Sparsifier s, bool normalize, bool rescale) {
  ParamList p;
  p.add({"weight", ParamScope::kPerModel, true, 0.0, "scale of the model's task vector"});
  p.add({"density", ParamScope::kPerModel, false, 1.0,
         s == Sparsifier::kNone ? "accepted for mergekit compatibility; no effect here"
                                : "fraction of the task vector kept"});
  if (s == Sparsifier::kMagnitudeOutliers)
    p.add({"gamma", ParamScope::kPerModel, false, 0.01, "fraction of largest magnitudes dropped"});
  if (s == Sparsifier::kDellaMagprune)
    p.add({"epsilon", ParamScope::kPerModel, false, 0.15,
           "keep probabilities spread over density +- epsilon by magnitude rank"});
  p.add({"normalize", ParamScope::kGlobal, false, normalize ? 1.0 : 0.0,
         "divide by the sum of the (kept) weights"});
  p.add({"lambda", ParamScope::kGlobal, false, 1.0, "scale of the merged task vector"});
  if (s != Sparsifier::kNone)
    p.add({"rescale", ParamScope::kGlobal, false, rescale ? 1.0 : 0.0,
           "rescale kept values so the L1 norm of each task vector is unchanged"});
  if (s == Sparsifier::kRandom || s == Sparsifier::kDellaMagprune)
    p.add({"rescale_by_probability", ParamScope::kGlobal, false, 0.0,
           "weld: with rescale, divide kept values by their keep probability (as the papers)"});
  p.add({"int8_mask", ParamScope::kGlobal, false, 0.0,
         "accepted for mergekit compatibility (a memory saving there); no effect"});
  return p;
}

struct FamilyRow {
  Sparsifier sparsifier;
  bool consensus;
  ParamList params;
};

constexpr FamilyRow kTaskArithmeticRow = {Sparsifier::kNone, false, family_params(Sparsifier::kNone, false, false)};
constexpr FamilyRow kTiesRow = {Sparsifier::kMagnitude, true, family_params(Sparsifier::kMagnitude, true, false)};
constexpr FamilyRow kDareTiesRow = {Sparsifier::kRandom, true, family_params(Sparsifier::kRandom, false, true)};
constexpr FamilyRow kDareLinearRow = {Sparsifier::kRandom, false, family_params(Sparsifier::kRandom, false, true)};
constexpr FamilyRow kBreadcrumbsRow = {Sparsifier::kMagnitudeOutliers, false,
                                       family_params(Sparsifier::kMagnitudeOutliers, false, false)};
constexpr FamilyRow kBreadcrumbsTiesRow = {Sparsifier::kMagnitudeOutliers, true,
                                           family_params(Sparsifier::kMagnitudeOutliers, false, false)};
constexpr FamilyRow kDellaRow = {Sparsifier::kDellaMagprune, true, family_params(Sparsifier::kDellaMagprune, true, true)};
constexpr FamilyRow kDellaLinearRow = {Sparsifier::kDellaMagprune, false,
                                       family_params(Sparsifier::kDellaMagprune, false, true)};

// Weight sums this close to zero would blow the task vectors up; mergekit divides by 1.
constexpr double kMinDivisor = 1e-8;

double param_or(const MethodCall& call, const FamilyRow& row, std::string_view name,
                std::optional<std::size_t> model, double fallback) {
  const std::size_t i = row.params.index_of(name);
  if (i == row.params.count) return fallback;
  return model ? call.model(*model, i) : call.global(i);
}

double scalar_divisor(const MethodCall& call, const FamilyRow& row) {
  double sum = 0.0;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != *call.base) sum += param_or(call, row, "weight", i, 0.0);
  return std::abs(sum) < kMinDivisor ? 1.0 : sum;
}

// task_arithmetic alone needs no whole-tensor statistic: it streams tile by tile.
WELD_VECTOR_CLONES void add_weighted_delta(float* __restrict sum, const float* x, const float* b, float w,
                                           std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) sum[j] += w * (x[j] - b[j]);
}

WELD_VECTOR_CLONES void add_base(float* __restrict sum, const float* b, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) sum[j] += b[j];
}

// Elements task_arithmetic sums at a time: the block of the sum stays in L1 while each task
// vector is added to it.
constexpr std::size_t kSumBlock = 2048;

// The factor of input i's task vector: weight / divisor * lambda, in f32.
float task_factor(const MethodCall& call, std::size_t input) {
  const FamilyRow& row = kTaskArithmeticRow;
  const double divisor = param_or(call, row, "normalize", {}, 0) != 0.0 ? scalar_divisor(call, row) : 1.0;
  return static_cast<float>(param_or(call, row, "weight", input, 0.0) / divisor * param_or(call, row, "lambda", {}, 1.0));
}

// out = (0 + w_1 (x_1 - b) + w_2 (x_2 - b) + ...) + b, in that order.
void merge_task_arithmetic_tile(const MethodCall& call, const Tile& tile) noexcept {
  const std::size_t base = *call.base;
  for (std::size_t first = 0; first < tile.n; first += kSumBlock) {
    const std::size_t n = std::min(kSumBlock, tile.n - first);
    const float* b = tile.inputs[base] + first;
    float* sum = tile.out + first;
    std::fill_n(sum, n, 0.0f);
    for (std::size_t i = 0; i < call.n_inputs; ++i)
      if (i != base) add_weighted_delta(sum, tile.inputs[i] + first, b, task_factor(call, i), n);
    add_base(sum, b, n);
  }
}

// The same sum over 16 lanes, in the same order, of kN inputs with the base at kBase (kN 0: as
// many as the call has, the base where it says; constants keep the inputs' lanes in registers).
template <std::size_t kN, std::size_t kBase>
struct TaskSum {
  static constexpr std::size_t kInputs = kN;
  float factors[kMaxLaneInputs];
  std::size_t n_inputs, base;

  [[gnu::always_inline]] void operator()(const Lanes* x, Lanes& sum) const {
    const std::size_t b = kN != 0 ? kBase : base;
    sum = Lanes{};
    for (std::size_t i = 0; i < (kN != 0 ? kN : n_inputs); ++i)
      if (i != b) sum += factors[i] * (x[i] - x[b]);
    sum += x[b];
  }
};

// Inputs below this many (the base and one to three task vectors) have kernels of their own.
constexpr std::size_t kConstantTaskInputs = 5;

bool merge_task_arithmetic_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  const auto run = [&](auto n, auto base) {
    TaskSum<n, base> sum{{}, call.n_inputs, *call.base};
    for (std::size_t i = 0; i < call.n_inputs; ++i)
      if (i != *call.base) sum.factors[i] = task_factor(call, i);
    run_lanes(tile.values, sum);
  };
  if (call.n_inputs < kConstantTaskInputs)
    with_constant_index<kConstantTaskInputs>(call.n_inputs, [&](auto n) {
      with_constant_index<n>(*call.base, [&](auto base) { run(n, base); });
    });
  else run(std::integral_constant<std::size_t, 0>{}, std::integral_constant<std::size_t, 0>{});
  return true;
}

// What a tensor's merge needs of every task vector, found by prepare(): its sparsifier (with
// thresholds and L1 norms) and its weight.
struct FamilyStats final : TensorStats {
  std::vector<std::size_t> inputs;  // the non-base inputs
  std::vector<TaskVectorSparsifier> sparsifiers;
  std::vector<double> weights;
};

std::unique_ptr<FamilyStats> family_stats(const MethodCall& call, const FamilyRow& row,
                                          const TensorReader& reader) {
  auto stats = std::make_unique<FamilyStats>();
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == *call.base) continue;
    const std::string key = fmt::format("{}#{}", reader.name, i);
    const SparsifyArgs args{
        .density = param_or(call, row, "density", i, 1.0),
        .gamma = param_or(call, row, "gamma", i, 0.0),
        .epsilon = param_or(call, row, "epsilon", i, 0.0),
        .rescale = param_or(call, row, "rescale", {}, 0.0) != 0.0,
        .rescale_by_probability = param_or(call, row, "rescale_by_probability", {}, 0.0) != 0.0,
        .row_length = reader.shape.empty() ? reader.numel : static_cast<std::size_t>(reader.shape.back()),
        .seed = reader.seed,
        .key = key};
    stats->inputs.push_back(i);
    stats->sparsifiers.emplace_back(row.sparsifier, args, reader.numel);
    stats->weights.push_back(param_or(call, row, "weight", i, 0.0));
  }
  return stats;
}

// out = b + lambda * mixed (/ divisor[j]).
WELD_VECTOR_CLONES void add_to_base(const float* b, const float* mixed, const float* divisor, bool normalize,
                                    float lambda, float* out, std::size_t n) noexcept {
  if (normalize) {
    for (std::size_t j = 0; j < n; ++j) out[j] = b[j] + lambda * (mixed[j] / divisor[j]);
  } else {
    for (std::size_t j = 0; j < n; ++j) out[j] = b[j] + lambda * mixed[j];
  }
}

// The same with one divisor for every element.
WELD_VECTOR_CLONES void add_to_base(const float* b, const float* mixed, float divisor, bool normalize,
                                    float lambda, float* out, std::size_t n) noexcept {
  if (normalize) {
    for (std::size_t j = 0; j < n; ++j) out[j] = b[j] + lambda * (mixed[j] / divisor);
  } else {
    for (std::size_t j = 0; j < n; ++j) out[j] = b[j] + lambda * mixed[j];
  }
}

// The statistics passes: the selection thresholds of every task vector that needs them, all
// in the same passes over the inputs, then (with L1 rescale) the norms before and after the
// mask, in one more.
void find_thresholds(const MethodCall& call, FamilyStats& stats, const TensorReader& reader) {
  std::vector<StreamedSelector> selectors;
  for (const TaskVectorSparsifier& s : stats.sparsifiers) selectors.emplace_back(reader.numel, s.selection_ranks());
  run_selection_passes(
      reader, selectors,
      [&](const Tile& tile, std::size_t k, std::span<std::uint32_t> keys) {
        stats.sparsifiers[k].selection_keys(tile.inputs[stats.inputs[k]], tile.inputs[*call.base], tile.n, keys.data());
      },
      [&](const LaneSpan& block, std::size_t k, std::span<std::uint32_t> keys) {
        stats.sparsifiers[k].selection_keys(block.inputs[stats.inputs[k]], block.inputs[*call.base], block.dtype,
                                            block.n, keys.data());
      });
  for (std::size_t k = 0; k < selectors.size(); ++k) {
    std::vector<std::uint64_t> pairs;
    for (std::size_t r = 0; r < stats.sparsifiers[k].selection_ranks().size(); ++r) pairs.push_back(selectors[k].result(r));
    if (!pairs.empty()) stats.sparsifiers[k].set_selected(pairs);
  }
}

// Elements the fused L1 pass takes at a time: the base's block stays in L1 while each task
// vector reads it.
constexpr std::size_t kFusedL1Block = 4096;

// The L1 pass, by the sparsifiers' segments, which the executor may share among its workers.
void find_l1_norms(const MethodCall& call, FamilyStats& stats, const TensorReader& reader) {
  std::vector<TaskVectorSparsifier*> rescaled;
  bool fused = true;
  std::vector<std::size_t> inputs;  // of the rescaled ones
  for (std::size_t k = 0; k < stats.sparsifiers.size(); ++k) {
    TaskVectorSparsifier& s = stats.sparsifiers[k];
    if (!s.needs_l1_norms()) continue;
    rescaled.push_back(&s);
    inputs.push_back(stats.inputs[k]);
    fused = fused && s.has_fused_l1_pass();
  }
  if (rescaled.empty()) return;
  // The sparsifiers of a tensor cut it alike: they share its length and its rows.
  const std::uint64_t segment = rescaled.front()->l1_segment();
  for (const TaskVectorSparsifier* s : rescaled) WELD_CHECK(s->l1_segment() == segment);
  const std::size_t base = *call.base;
  reader.for_each_segment(segment, [&](const TensorReader& part, std::uint64_t first, std::uint64_t end) {
    if (!fused || !part.has_lanes()) {
      part.for_each_tile(first, end, [&](const Tile& tile) {
        for (std::size_t k = 0; k < rescaled.size(); ++k)
          rescaled[k]->add_l1_norms(tile.inputs[inputs[k]], tile.inputs[base], tile.begin, tile.n, *tile.scratch);
        return true;
      });
      return;
    }
    std::size_t unit = 1;  // whole rows, where a sparsifier ranks within them (tiles hold them)
    for (const TaskVectorSparsifier* s : rescaled) unit = std::max(unit, s->l1_pass_unit());
    const std::size_t block = std::max<std::size_t>(1, kFusedL1Block / unit) * unit;
    Scratch scratch;
    part.for_each_lane_block(first, end, [&](const LaneSpan& tile, std::uint64_t tile_begin) {
      const std::size_t size = dtype_size(tile.dtype);
      for (std::size_t at = 0; at < tile.n; at += block) {
        const std::size_t n = std::min(block, tile.n - at);
        for (std::size_t k = 0; k < rescaled.size(); ++k)
          rescaled[k]->add_l1_norms_lanes(tile.inputs[inputs[k]] + at * size, tile.inputs[base] + at * size,
                                          tile.dtype, tile_begin + at, n, scratch);
      }
      return true;
    });
  });
  for (TaskVectorSparsifier* s : rescaled) s->finish_l1_norms();
}

template <const FamilyRow& Row>
std::unique_ptr<TensorStats> prepare_family(const MethodCall& call, const TensorReader& reader) {
  std::unique_ptr<FamilyStats> stats = family_stats(call, Row, reader);
  find_thresholds(call, *stats, reader);
  find_l1_norms(call, *stats, reader);
  return stats;
}

// Elements the merge takes at a time: every buffer of a block stays in L1 or L2 (a whole tile
// of each task vector, its mixture and divisor would not fit in L2 with the inputs).
constexpr std::size_t kMergeBlock = 4096;

template <const FamilyRow& Row>
void merge_family_tile(const MethodCall& call, const Tile& tile) noexcept {
  const auto& stats = static_cast<const FamilyStats&>(*tile.stats);
  const std::size_t n_models = stats.inputs.size();
  // DELLA ranks within rows, which the executor's tiles hold whole: it takes the tile at once
  // unless the L1 pass left it the bits of its masks.
  bool whole_rows = false;
  for (const TaskVectorSparsifier& s : stats.sparsifiers) whole_rows = whole_rows || s.needs_whole_rows();
  const std::size_t block = whole_rows ? tile.n : std::min(tile.n, kMergeBlock);
  const std::span<float*> weighted = tile.scratch->pointers(n_models);
  for (std::size_t k = 0; k < n_models; ++k) weighted[k] = tile.scratch->floats(2 + k, block).data();
  const std::span<float> mixed = tile.scratch->floats(0, block), divisor = tile.scratch->floats(1, block);
  const bool normalize = param_or(call, Row, "normalize", {}, 0.0) != 0.0;
  const auto lambda = static_cast<float>(param_or(call, Row, "lambda", {}, 1.0));
  const float* b = tile.inputs[*call.base];
  for (std::size_t begin = 0; begin < tile.n; begin += block) {
    const std::size_t n = std::min(block, tile.n - begin);
    const auto weighted_delta = [&](std::size_t k, float* out, Into into) {
      stats.sparsifiers[k].weighted_delta(tile.inputs[stats.inputs[k]] + begin, b + begin, tile.begin + begin, n,
                                          static_cast<float>(stats.weights[k]), out, into, *tile.scratch);
    };
    if (Row.consensus) {
      for (std::size_t k = 0; k < n_models; ++k) weighted_delta(k, weighted[k], Into::kStore);
      elect_sign_and_merge({weighted.data(), n_models}, stats.weights, mixed.data(), divisor.data(), n);
      add_to_base(b + begin, mixed.data(), divisor.data(), normalize, lambda, tile.out + begin, n);
    } else {
      // The sum starts at +0, so a sum of -0 terms is +0 (mixed = 0 + wd_1 + wd_2 + ...).
      std::fill_n(mixed.begin(), n, 0.0f);
      for (std::size_t k = 0; k < n_models; ++k) weighted_delta(k, mixed.data(), Into::kAdd);
      add_to_base(b + begin, mixed.data(), static_cast<float>(scalar_divisor(call, Row)), normalize, lambda,
                  tile.out + begin, n);
    }
  }
}

// What merge_family_tile needs of a tensor, for the fused path.
struct FamilyTerms {
  std::size_t n_models = 0, base = 0;
  std::size_t inputs[kMaxLaneInputs];
  float weights[kMaxLaneInputs];
  LaneMask masks[kMaxLaneInputs];
  std::uint64_t begin = 0;  // the tile's first element
  bool consensus = false, normalize = false;
  float lambda = 1.0f, divisor = 1.0f;  // divisor: without consensus
};

// Every mask's kind when they share one (the usual case: the compiler then keeps the mask's
// constants in registers), or kMixedKinds.
constexpr int kMixedKinds = -1;

// merge_family_tile over 16 lanes, with the same operations in the same order. kModels, when
// not 0, is the number of models and kBase the base's input, known to the compiler: the loops
// over the models then unroll and the inputs and weighted task vectors stay in registers
// (in bench_kernels, dare_linear's merge took a fifth less time for the number; ties' a
// twelfth less again for the base's place). The models are then the other inputs in order, as
// family_stats lists them.
template <int kKind, std::size_t kModels, std::size_t kBase>
struct FamilyLanes {
  static constexpr std::size_t kInputs = kModels == 0 ? 0 : kModels + 1;  // and the base
  FamilyTerms terms;

  [[gnu::always_inline]] WELD_TARGET_LANES void operator()(const Lanes* x, std::size_t at, Lanes& out) const {
    const FamilyTerms& f = terms;
    const std::size_t n_models = kModels != 0 ? kModels : f.n_models;
    const std::size_t base = kModels != 0 ? kBase : f.base;
    const Lanes& b = x[base];
    Lanes weighted[kMaxLaneInputs];
    Lanes mixed{};
    for (std::size_t k = 0; k < n_models; ++k) {
      Lanes d = x[kModels != 0 ? k + (k >= kBase) : f.inputs[k]] - b;
      if constexpr (kKind == kMixedKinds) f.masks[k].apply(d, f.begin + at);
      else f.masks[k].template apply_as<static_cast<LaneMask::Kind>(kKind)>(d, f.begin + at);
      weighted[k] = d * f.weights[k];
      mixed += weighted[k];  // without consensus the mixture; with it, the sum that elects signs
    }
    if (!f.consensus) {
      if (f.normalize) out = b + f.lambda * (mixed / f.divisor);
      else out = b + f.lambda * mixed;
      return;
    }
    Lanes sign;
    lane_select(mixed >= 0.0f, Lanes{} + 1.0f, Lanes{} - 1.0f, sign);
    Lanes kept{}, kept_weight{};
    for (std::size_t k = 0; k < n_models; ++k) {
      const LaneBits agrees = weighted[k] * sign > 0.0f;
      Lanes value, weight;
      lane_select(agrees, weighted[k], Lanes{}, value);
      lane_select(agrees, Lanes{} + f.weights[k], Lanes{}, weight);
      kept += value;
      kept_weight += weight;
    }
    Lanes divisors;
    lane_select(kept_weight == 0.0f, Lanes{} + 1.0f, kept_weight, divisors);
    if (f.normalize) out = b + f.lambda * (kept / divisors);
    else out = b + f.lambda * kept;
  }
};

template <int kKind, std::size_t kModels>
bool run_family_lanes_of(const LaneSpan& values, const FamilyTerms& f) noexcept {
  bool fused = false;
  with_constant_index<kModels + 1>(
      f.base, [&](auto base) { fused = run_lanes_fused(values, FamilyLanes<kKind, kModels, base>{f}); });
  return fused;
}

// The usual merges, of one to three models, with their number and the base's place known to
// the compiler.
template <int kKind>
bool run_family_lanes(const LaneSpan& values, const FamilyTerms& f) noexcept {
  switch (f.n_models) {
    case 1: return run_family_lanes_of<kKind, 1>(values, f);
    case 2: return run_family_lanes_of<kKind, 2>(values, f);
    case 3: return run_family_lanes_of<kKind, 3>(values, f);
    default: return run_lanes_fused(values, FamilyLanes<kKind, 0, 0>{f});
  }
}

bool merge_family_lanes(const MethodCall& call, const FamilyRow& row, const LaneTile& tile) noexcept {
  const auto& stats = static_cast<const FamilyStats&>(*tile.stats);
  FamilyTerms f;
  f.n_models = stats.inputs.size();
  int kind = kMixedKinds;
  for (std::size_t k = 0; k < f.n_models; ++k) {
    const std::optional<LaneMask> mask = stats.sparsifiers[k].lane_mask();
    if (!mask) return false;
    f.masks[k] = *mask;
    f.inputs[k] = stats.inputs[k];
    f.weights[k] = static_cast<float>(stats.weights[k]);
    const int this_kind = static_cast<int>(mask->kind);
    kind = k == 0 || kind == this_kind ? this_kind : kMixedKinds;
  }
  f.base = *call.base;
  f.begin = tile.begin;
  f.consensus = row.consensus;
  f.normalize = param_or(call, row, "normalize", {}, 0.0) != 0.0;
  f.lambda = static_cast<float>(param_or(call, row, "lambda", {}, 1.0));
  f.divisor = static_cast<float>(scalar_divisor(call, row));
  using Kind = LaneMask::Kind;
  switch (kind) {
    case static_cast<int>(Kind::kBits): return run_family_lanes<static_cast<int>(Kind::kBits)>(tile.values, f);
    case static_cast<int>(Kind::kRankPairs): return run_family_lanes<static_cast<int>(Kind::kRankPairs)>(tile.values, f);
    case static_cast<int>(Kind::kRankBelow): return run_family_lanes<static_cast<int>(Kind::kRankBelow)>(tile.values, f);
    case static_cast<int>(Kind::kDraws): return run_family_lanes<static_cast<int>(Kind::kDraws)>(tile.values, f);
    default: return run_family_lanes<kMixedKinds>(tile.values, f);
  }
}

template <const FamilyRow& Row>
bool merge_family_lanes(const MethodCall& call, const LaneTile& tile) noexcept {
  return merge_family_lanes(call, Row, tile);
}

template <const FamilyRow& Row>
void validate_family(const MethodCall& call) {
  if (Row.sparsifier != Sparsifier::kDellaMagprune) return;
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == *call.base) continue;
    const double density = param_or(call, Row, "density", i, 1.0);
    const double epsilon = param_or(call, Row, "epsilon", i, 0.0);
    if (density > 0.0 && density < 1.0 && (density - epsilon <= 0.0 || density + epsilon >= 1.0))
      fail("density {:g} and epsilon {:g} of input {}: DELLA needs density - epsilon > 0 and "
           "density + epsilon < 1", density, epsilon, i + 1);
  }
}

template <const FamilyRow& Row>
constexpr MethodDescriptor family_method(std::string_view name, std::string_view pretty,
                                         std::string_view summary, std::string_view formula,
                                         std::string_view paper, std::string_view url,
                                         std::string_view description, std::string_view when_to_use) {
  // task_arithmetic needs no statistic of the whole tensor: it is element-wise.
  const bool elementwise = Row.sparsifier == Sparsifier::kNone;
  return {.name = name, .pretty_name = pretty, .summary = summary, .formula = formula,
          .paper = paper, .url = url, .params = Row.params.span(), .base = BaseUse::kRequired,
          .min_inputs = 1, .max_inputs = kUnbounded, .validate = validate_family<Row>,
          .merge_tile = elementwise ? merge_task_arithmetic_tile : merge_family_tile<Row>,
          .identity_input = nullptr,
          .description = description, .when_to_use = when_to_use,
          .prepare = elementwise ? nullptr : prepare_family<Row>,
          .whole_rows = Row.sparsifier == Sparsifier::kDellaMagprune,
          .merge_lanes = elementwise ? merge_task_arithmetic_lanes : merge_family_lanes<Row>};
}

constexpr std::string_view kTiesPaper =
    "Yadav et al., TIES-Merging: Resolving Interference When Merging Models, NeurIPS 2023";
constexpr std::string_view kDarePaper =
    "Yu et al., Language Models are Super Mario: Absorbing Abilities from Homologous Models "
    "as a Free Lunch, ICML 2024";
constexpr std::string_view kBreadcrumbsPaper =
    "Davari & Belilovsky, Model Breadcrumbs: Scaling Multi-Task Model Merging with Sparse "
    "Masks, ECCV 2024";
constexpr std::string_view kDellaPaper =
    "Deep et al., DELLA-Merging: Reducing Interference in Model Merging through "
    "Magnitude-Based Sampling, 2024";

}  // namespace

const MethodDescriptor kTaskArithmetic = family_method<kTaskArithmeticRow>(
    "task_arithmetic", "Task Arithmetic", "add weighted task vectors (fine-tune minus base) to the base",
    "out = b + lambda * sum_i w_i (x_i - b)",
    "Ilharco et al., Editing Models with Task Arithmetic, ICLR 2023", "https://arxiv.org/abs/2212.04089",
    "A task vector is a fine-tune minus its base. Adding weighted task vectors to the base "
    "combines the skills they carry; a negative weight removes one (forgetting), and a "
    "weight below one interpolates towards the base (WiSE-FT).",
    "combining or negating a few fine-tunes of one base whose task vectors barely overlap");
const MethodDescriptor kTies = family_method<kTiesRow>(
    "ties", "TIES", "trim task vectors to the largest magnitudes, elect signs, average the agreeing",
    "out = b + lambda * sum_i m_i w_i trim(d_i) / sum_i m_i w_i", kTiesPaper,
    "https://arxiv.org/abs/2306.01708",
    "Trims each task vector to its largest-magnitude fraction (density), elects a sign per "
    "element from the sum of the weighted task vectors, and averages only the values that "
    "agree with it, so that small updates and sign conflicts stop cancelling each other.",
    "merging several fine-tunes whose task vectors interfere; density 0.2 to 0.5 is typical");
const MethodDescriptor kDareTies = family_method<kDareTiesRow>(
    "dare_ties", "DARE TIES", "drop task-vector elements at random and rescale, then TIES sign election",
    "out = b + lambda * sum_i m_i w_i dare(d_i) [/ sum_i m_i w_i]", kDarePaper,
    "https://arxiv.org/abs/2311.03099",
    "Drops each task-vector element at random with probability 1 - density and rescales the "
    "survivors (DARE), then elects signs and merges the agreeing values as TIES does.",
    "large language-model fine-tunes, whose task vectors survive heavy random dropping");
const MethodDescriptor kDareLinear = family_method<kDareLinearRow>(
    "dare_linear", "DARE linear", "drop task-vector elements at random and rescale, then add them",
    "out = b + lambda * sum_i w_i dare(d_i) [/ sum_i w_i]", kDarePaper, "https://arxiv.org/abs/2311.03099",
    "Drops each task-vector element at random with probability 1 - density, rescales the "
    "survivors, and adds the weighted task vectors to the base without sign election.",
    "like dare_ties when the fine-tunes agree in sign, or to keep every contribution");
const MethodDescriptor kBreadcrumbs = family_method<kBreadcrumbsRow>(
    "breadcrumbs", "Model Breadcrumbs", "drop the largest and smallest task-vector magnitudes, then add",
    "out = b + lambda * sum_i w_i crumbs(d_i) [/ sum_i w_i]", kBreadcrumbsPaper,
    "https://arxiv.org/abs/2312.06795",
    "Masks out both tails of each task vector's magnitudes: the largest fraction gamma "
    "(outliers) and the smallest (noise), keeping a density fraction in between, then adds "
    "the weighted task vectors to the base.",
    "many fine-tunes, where a few large outlier updates dominate a plain sum");
const MethodDescriptor kBreadcrumbsTies = family_method<kBreadcrumbsTiesRow>(
    "breadcrumbs_ties", "Model Breadcrumbs with TIES", "breadcrumbs sparsification, then TIES sign election",
    "out = b + lambda * sum_i m_i w_i crumbs(d_i) [/ sum_i m_i w_i]", kBreadcrumbsPaper,
    "https://arxiv.org/abs/2312.06795",
    "Breadcrumbs' two-tailed magnitude mask followed by TIES sign election and a merge of "
    "the agreeing values.",
    "breadcrumbs with sign conflicts between the fine-tunes");
const MethodDescriptor kDella = family_method<kDellaRow>(
    "della", "DELLA", "drop task-vector elements with probability falling with magnitude rank, elect signs",
    "out = b + lambda * sum_i m_i w_i della(d_i) / sum_i m_i w_i", kDellaPaper,
    "https://arxiv.org/abs/2406.11617",
    "Drops task-vector elements at random with a keep probability that rises with the "
    "element's magnitude rank in its row (density - epsilon for the smallest to density + "
    "epsilon for the largest), rescales, elects signs and merges the agreeing values.",
    "like dare_ties, when large updates matter more than small ones");
const MethodDescriptor kDellaLinear = family_method<kDellaLinearRow>(
    "della_linear", "DELLA linear", "DELLA's magnitude-ranked dropping, then add the task vectors",
    "out = b + lambda * sum_i w_i della(d_i) [/ sum_i w_i]", kDellaPaper, "https://arxiv.org/abs/2406.11617",
    "DELLA's magnitude-ranked random dropping and rescale, then a weighted sum of the task "
    "vectors without sign election.",
    "like della when the fine-tunes agree in sign");

}  // namespace weld
