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
#include <vector>

#include "methods/all_methods.h"
#include "tensor/select.h"

namespace weld {
namespace {

// Added to both distributions before the log (mergekit's), so an underflowed 0 stays finite.
constexpr double kSmoothing = 1e-8;

// Total order of floats as unsigned keys (negatives reversed below positives), for
// select_rank: importance is >= 0 in exact arithmetic but may round just below 0.
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

void merge_tensor(const MethodCall& call, const WholeTensor& t) {
  if (t.n == 0) return;
  const std::size_t other = *call.base == 0 ? 1 : 0;
  const float* a = t.inputs[*call.base];
  const float* b = t.inputs[other];
  const std::size_t row_length = t.shape.empty() ? t.n : static_cast<std::size_t>(t.shape.back());

  std::vector<float> importance(t.n);
  std::vector<double> p, q;
  for (std::size_t begin = 0; begin < t.n; begin += row_length) {
    const double kl = row_kl(a + begin, b + begin, row_length, p, q);
    for (std::size_t j = begin; j < begin + row_length; ++j)
      importance[j] = static_cast<float>(std::abs(b[j] - a[j]) * kl);
  }

  std::vector<std::uint32_t> keys(t.n);
  for (std::size_t j = 0; j < t.n; ++j) keys[j] = order_key(importance[j]);
  const auto quantile = [&](std::size_t rank) {
    return importance[select_rank(keys, rank) & 0xffffffffu];
  };
  const std::size_t last = t.n - 1;
  const float q1 = quantile(last / 4), median = quantile(last / 2), q3 = quantile(3 * last / 4);
  const float threshold = median + 1.5f * (q3 - q1);
  for (std::size_t j = 0; j < t.n; ++j)
    t.out[j] = importance[j] >= threshold ? a[j] + (b[j] - a[j]) : a[j];
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
    .merge_tile = nullptr,
    .merge_tensor = merge_tensor,
    .identity_input = nullptr,
    .description =
        "Scores each element by how far the other model moved it times how much the row's "
        "softmax distribution changed (KL divergence), and takes the other model's value only "
        "where the score is an outlier (above median + 1.5 IQR).",
    .when_to_use = "importing only a fine-tune's most significant changes into its base",
};

}  // namespace weld
