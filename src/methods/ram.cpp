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

// The task vectors and, per element, how many of them are active there.
struct Activity {
  std::vector<std::vector<float>> deltas;
  std::vector<std::uint32_t> counts;
};

Activity activity(const MethodCall& call, const WholeTensor& t, double epsilon) {
  Activity act;
  act.counts.assign(t.n, 0);
  const float* b = t.inputs[*call.base];
  for (std::size_t i = 0; i < call.n_inputs; ++i) {
    if (i == *call.base) continue;
    const float* x = t.inputs[i];
    std::vector<float>& d = act.deltas.emplace_back(t.n);
    for (std::size_t j = 0; j < t.n; ++j) {
      d[j] = x[j] - b[j];
      if (std::abs(d[j]) > epsilon) ++act.counts[j];
    }
  }
  return act;
}

// lambda_i of ramplus_tl: 1 + r * rho_i clamped to [0, alpha] the way torch.clamp does
// (max first, then min, so a negative alpha gives alpha rather than undefined behaviour).
std::vector<double> unique_scales(const Activity& act, double epsilon, double r, double alpha) {
  std::vector<double> lambda;
  for (const std::vector<float>& d : act.deltas) {
    double shared = 0.0, unique = 0.0;
    for (std::size_t j = 0; j < d.size(); ++j) {
      if (!(std::abs(d[j]) > epsilon)) continue;
      if (act.counts[j] == 1)
        unique += 1.0;
      else
        shared += 1.0;
    }
    const double rho = shared / std::max(unique, epsilon);
    lambda.push_back(1.0 + r * std::min(std::max(rho, 0.0), alpha));
  }
  return lambda;
}

void merge(const WholeTensor& t, const Activity& act, const std::vector<double>& lambda,
           double epsilon, const float* b) {
  for (std::size_t j = 0; j < t.n; ++j) {
    const std::uint32_t c = act.counts[j];
    double merged = 0.0;
    for (std::size_t i = 0; i < act.deltas.size(); ++i) {
      const float v = act.deltas[i][j];
      if (!(std::abs(v) > epsilon)) continue;
      merged += c == 1 ? lambda[i] * v : double{v} / c;
    }
    t.out[j] = static_cast<float>(b[j] + merged);
  }
}

void merge_ram(const MethodCall& call, const WholeTensor& t) {
  const double epsilon = call.global(kRamEpsilon);
  const Activity act = activity(call, t, epsilon);
  merge(t, act, std::vector<double>(act.deltas.size(), 1.0), epsilon, t.inputs[*call.base]);
}

void merge_ramplus_tl(const MethodCall& call, const WholeTensor& t) {
  const double epsilon = call.global(kPlusEpsilon);
  const Activity act = activity(call, t, epsilon);
  const std::vector<double> lambda =
      unique_scales(act, epsilon, call.global(kPlusR), call.global(kPlusAlpha));
  merge(t, act, lambda, epsilon, t.inputs[*call.base]);
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
    .merge_tile = nullptr,
    .merge_tensor = merge_ram,
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
    .merge_tile = nullptr,
    .merge_tensor = merge_ramplus_tl,
    .identity_input = nullptr,
    .description =
        "RAM with rescaled unique contributions: a model whose updates are mostly shared with "
        "others gets its unique updates amplified by up to 1 + r alpha.",
    .when_to_use = "like ram, when one model's unique updates risk being underweighted",
};

}  // namespace weld
