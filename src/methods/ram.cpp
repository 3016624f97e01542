// ram, ramplus_tl: Reinforced Agent Merging (arXiv 2601.13572), on task vectors d_i = x_i - b.
// An element is active in model i when |d_ij| > epsilon; c_j counts the models active at j.
//   ram:        merged_j = sum of the active d_ij, divided by c_j when c_j > 1 (0 when c_j = 0)
//   ramplus_tl: as ram, but where c_j = 1 the one active d_ij is scaled by
//               lambda_i = 1 + r min(max(rho_i, 0), alpha)
//               rho_i = shared_i / max(unique_i, epsilon)
//               shared_i = #{j: i active, c_j > 1},  unique_i = #{j: i active, c_j = 1}
//   out = b + merged
// Counts are per tensor (mergekit's tensor-local variant), over the flattened tensor.
#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "methods/all_methods.h"

namespace weld {
namespace {

constexpr std::string_view kRamPaper = "Reinforced Agent Merging, arXiv 2601.13572, 2026";
constexpr std::string_view kRamUrl = "https://arxiv.org/abs/2601.13572";

enum : std::size_t { kRamEpsilon };
enum : std::size_t { kPlusR, kPlusAlpha, kPlusEpsilon };

constexpr ParamDef kRamParams[] = {
    {"epsilon", ParamScope::kGlobal, false, 1e-5,
     "a task-vector element counts as active when its magnitude exceeds this"},
};

constexpr ParamDef kPlusParams[] = {
    {"r", ParamScope::kGlobal, false, 0.1, "strength of the boost to a model's unique elements"},
    {"alpha", ParamScope::kGlobal, false, 0.2, "cap on the shared-to-unique ratio rho"},
    {"epsilon", ParamScope::kGlobal, false, 1e-5,
     "a task-vector element counts as active when its magnitude exceeds this"},
};

bool active(float d, double epsilon) { return std::abs(d) > epsilon; }

// How many task vectors are active at element j of a tile.
std::uint32_t active_count(const MethodCall& call, const Tile& tile, std::size_t j, double epsilon) {
  const float b = tile.inputs[*call.base][j];
  std::uint32_t c = 0;
  for (std::size_t i = 0; i < call.n_inputs; ++i)
    if (i != *call.base) c += active(tile.inputs[i][j] - b, epsilon);
  return c;
}

// merged_j over a tile; lambda[k] scales the k-th task vector where it alone is active.
void merge_active(const MethodCall& call, const Tile& tile, double epsilon, const double* lambda) {
  const float* b = tile.inputs[*call.base];
  for (std::size_t j = 0; j < tile.n; ++j) {
    const std::uint32_t c = active_count(call, tile, j, epsilon);
    double merged = 0.0;
    for (std::size_t i = 0, k = 0; i < call.n_inputs; ++i) {
      if (i == *call.base) continue;
      const float v = tile.inputs[i][j] - b[j];
      if (active(v, epsilon)) merged += c == 1 ? (lambda ? lambda[k] : 1.0) * v : double{v} / c;
      ++k;
    }
    tile.out[j] = static_cast<float>(b[j] + merged);
  }
}

void merge_ram(const MethodCall& call, const Tile& tile) noexcept {
  merge_active(call, tile, call.global(kRamEpsilon), nullptr);
}

// ramplus_tl's lambda_i, from one pass that counts each model's shared and unique elements.
struct RamPlusStats final : TensorStats {
  std::vector<double> lambda;
};

std::unique_ptr<TensorStats> prepare_ramplus_tl(const MethodCall& call, const TensorReader& reader) {
  const double epsilon = call.global(kPlusEpsilon);
  std::vector<double> shared(call.n_inputs, 0.0), unique(call.n_inputs, 0.0);
  reader.for_each_tile([&](const Tile& tile) {
    for (std::size_t j = 0; j < tile.n; ++j) {
      const std::uint32_t c = active_count(call, tile, j, epsilon);
      for (std::size_t i = 0; i < call.n_inputs; ++i)
        if (i != *call.base && active(tile.inputs[i][j] - tile.inputs[*call.base][j], epsilon))
          (c == 1 ? unique : shared)[i] += 1.0;
    }
    return true;
  });
  // Clamped the way torch.clamp does (max first, then min: a negative alpha gives alpha).
  auto stats = std::make_unique<RamPlusStats>();
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == *call.base) continue;
    const double rho = shared[i] / std::max(unique[i], epsilon);
    stats->lambda.push_back(1.0 + call.global(kPlusR) * std::min(std::max(rho, 0.0), call.global(kPlusAlpha)));
  }
  return stats;
}

void merge_ramplus_tl(const MethodCall& call, const Tile& tile) noexcept {
  merge_active(call, tile, call.global(kPlusEpsilon), static_cast<const RamPlusStats&>(*tile.stats).lambda.data());
}

}  // namespace

const MethodDescriptor kRam = {
    .name = "ram",
    .pretty_name = "Reinforced Agent Merging",
    .summary = "add task-vector elements, averaging only where several models change them",
    .formula = "out = b + sum_i [|d_i| > eps] d_i / max(c, 1), c = #models active",
    .paper = kRamPaper,
    .url = kRamUrl,
    .params = kRamParams,
    .base = BaseUse::kRequired,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = nullptr,
    .merge_tile = merge_ram,
    .identity_input = nullptr,
    .description =
        "Reinforced Agent Merging: where only one model changed an element it is taken whole; "
        "where several did, their changes are averaged; elements no model changed keep the "
        "base.",
    .when_to_use = "models fine-tuned on disjoint skills, whose unique updates a plain average would dilute",
};

const MethodDescriptor kRamplusTl = {
    .name = "ramplus_tl",
    .pretty_name = "Reinforced Agent Merging Plus (tensor-local)",
    .summary = "ram, with each model's unique elements boosted by its shared-to-unique ratio",
    .formula = "as ram, unique elements times 1 + r clamp(shared_i / unique_i, 0, alpha)",
    .paper = kRamPaper,
    .url = kRamUrl,
    .params = kPlusParams,
    .base = BaseUse::kRequired,
    .min_inputs = 1,
    .max_inputs = kUnbounded,
    .validate = nullptr,
    .merge_tile = merge_ramplus_tl,
    .identity_input = nullptr,
    .description =
        "RAM with rescaled unique contributions: a model whose updates are mostly shared with "
        "others gets its unique updates amplified by up to 1 + r alpha.",
    .when_to_use = "like ram, when one model's unique updates risk being underweighted",
    .prepare = prepare_ramplus_tl,
};

}  // namespace weld
