// sce: Select, Calculate, Erase (Wan et al., FuseChat 2024), on task vectors d_i = x_i - b:
//   select:    with select_topk < 1, keep the k = int(count_nonzero(var) * select_topk)
//              elements of largest population variance across the d_i (one mask for all)
//   calculate: e_i = mean(d_i^2) / sum_j mean(d_j^2)   (uniform 1/N when that sum < 1e-6)
//   erase:     s = sign of sum_i d_i (zero counts as +); m_i = [sign(d_i) == s]
//   out = b + sum_i e_i m_i d_i / max(sum_i e_i m_i, 1e-6)
// No per-model weights. Ties in variance at the top-k boundary go to the lower index.
#include <algorithm>
#include <cmath>
#include <vector>

#include "methods/all_methods.h"
#include "tensor/select.h"

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

// Zeroes, in every task vector, the elements outside the top k by variance across them.
void keep_top_variance(std::vector<std::vector<float>>& deltas, double select_topk) {
  const std::size_t n = deltas.front().size();
  const double n_models = static_cast<double>(deltas.size());
  // Variance >= 0, so its float bits order it; the complement puts the largest first.
  std::vector<std::uint32_t> keys(n);
  std::size_t n_nonzero = 0;
  for (std::size_t j = 0; j < n; ++j) {
    double mean = 0.0;
    for (const auto& d : deltas) mean += d[j];
    mean /= n_models;
    double var = 0.0;
    for (const auto& d : deltas) var += (d[j] - mean) * (d[j] - mean);
    const std::uint32_t key = magnitude_key(static_cast<float>(var / n_models));
    n_nonzero += key != 0;
    keys[j] = ~key;
  }
  const double wanted = std::floor(static_cast<double>(n_nonzero) * select_topk);
  const std::size_t k = wanted > 0.0 ? static_cast<std::size_t>(wanted) : 0;
  if (k == 0) {
    for (auto& d : deltas) std::fill(d.begin(), d.end(), 0.0f);
    return;
  }
  const std::uint64_t last_kept = select_rank(keys, k - 1);
  for (std::size_t j = 0; j < n; ++j)
    if (rank_pair(keys[j], j) > last_kept)
      for (auto& d : deltas) d[j] = 0.0f;
}

std::vector<double> calculated_weights(const std::vector<std::vector<float>>& deltas) {
  std::vector<double> e(deltas.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    double squares = 0.0;
    for (const float v : deltas[i]) squares += double{v} * v;
    e[i] = squares / static_cast<double>(deltas[i].size());
    sum += e[i];
  }
  for (double& w : e)
    w = std::abs(sum) < kMinWeightSum ? 1.0 / static_cast<double>(e.size()) : w / sum;
  return e;
}

void merge_tensor(const MethodCall& call, const WholeTensor& t) {
  const float* b = t.inputs[*call.base];
  std::vector<std::vector<float>> deltas;
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == *call.base) continue;
    const float* x = t.inputs[i];
    std::vector<float>& d = deltas.emplace_back(t.n);
    for (std::size_t j = 0; j < t.n; ++j) d[j] = x[j] - b[j];
  }
  if (deltas.empty() || t.n == 0) {
    std::copy(b, b + t.n, t.out);
    return;
  }
  if (call.global(kSelectTopk) < 1.0) keep_top_variance(deltas, call.global(kSelectTopk));
  const std::vector<double> e = calculated_weights(deltas);
  for (std::size_t j = 0; j < t.n; ++j) {
    double sum = 0.0;
    for (const auto& d : deltas) sum += d[j];
    const bool positive = sum >= 0.0;
    double mixed = 0.0;
    double divisor = 0.0;
    for (std::size_t i = 0; i < deltas.size(); ++i) {
      const float v = deltas[i][j];
      if (positive ? v > 0.0f : v < 0.0f) {
        mixed += e[i] * v;
        divisor += e[i];
      }
    }
    t.out[j] = static_cast<float>(b[j] + mixed / std::max(divisor, kMinWeightSum));
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
    .merge_tile = nullptr,
    .merge_tensor = merge_tensor,
    .identity_input = nullptr,
    .description =
        "Select, Calculate, Erase: keeps the elements whose task vectors vary most across "
        "models (select_topk), weights each model by the energy of its task vector, and "
        "merges with TIES sign election. Needs no weights.",
    .when_to_use = "fusing several task vectors when you have no weights to tune",
};

}  // namespace weld
