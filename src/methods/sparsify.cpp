#include "methods/sparsify.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "tensor/rng.h"
#include "tensor/select.h"
#include "util/error.h"

namespace weld {
namespace {

// Below this an L1 norm is taken as zero and no rescale is done (mergekit's threshold).
constexpr double kRescaleEpsilon = 1e-7;

double l1_norm(std::span<const float> v) {
  double sum = 0.0;
  for (float x : v) sum += std::abs(static_cast<double>(x));
  return sum;
}

std::size_t truncated_count(double fraction, std::size_t n) {
  return static_cast<std::size_t>(std::max(0.0, fraction * static_cast<double>(n)));
}

// Selection keys of `d`: from the worker's scratch when there is one.
std::span<std::uint32_t> key_buffer(std::size_t n, Scratch* scratch, std::vector<std::uint32_t>& owned) {
  if (scratch) return scratch->keys(n);
  owned.resize(n);
  return owned;
}

void keep_largest(std::span<float> d, double density, Scratch* scratch) {
  const std::size_t n = d.size();
  const std::size_t k = truncated_count(density, n);
  if (k == 0) fail("density {} keeps no element of {} (int(density * n) = 0)", density, n);
  if (k >= n) return;
  // Largest magnitude first: the complement of the key reverses the order, the index does not.
  std::vector<std::uint32_t> owned;
  const std::span<std::uint32_t> keys = key_buffer(n, scratch, owned);
  for (std::size_t j = 0; j < n; ++j) keys[j] = ~magnitude_key(d[j]);
  const std::uint64_t last_kept = select_rank(keys, k - 1);
  for (std::size_t j = 0; j < n; ++j)
    if (rank_pair(keys[j], j) > last_kept) d[j] = 0.0f;
}

void keep_middle(std::span<float> d, double density, double gamma, Scratch* scratch) {
  const std::size_t n = d.size();
  std::ptrdiff_t n_top = static_cast<std::ptrdiff_t>(truncated_count(gamma, n));
  std::ptrdiff_t n_bot = static_cast<std::ptrdiff_t>(n - truncated_count(density, n)) - n_top;
  if (n_bot < 0) {
    n_top += n_bot;
    n_bot = 0;
  }
  std::vector<std::uint32_t> owned;
  const std::span<std::uint32_t> keys = key_buffer(n, scratch, owned);
  for (std::size_t j = 0; j < n; ++j) keys[j] = magnitude_key(d[j]);
  const std::size_t top_begin = n - static_cast<std::size_t>(n_top);
  if (static_cast<std::size_t>(n_bot) >= top_begin) {
    std::fill(d.begin(), d.end(), 0.0f);
    return;
  }
  // weld: with n_top = 0 every rank from n_bot up is kept (mergekit's slice drops them all).
  const std::uint64_t first_kept = n_bot > 0 ? select_rank(keys, static_cast<std::size_t>(n_bot)) : 0;
  const std::uint64_t first_dropped = n_top > 0 ? select_rank(keys, top_begin)
                                                : std::numeric_limits<std::uint64_t>::max();
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint64_t p = rank_pair(keys[j], j);
    if (p < first_kept || p >= first_dropped) d[j] = 0.0f;
  }
}

void keep_random(std::span<float> d, const SparsifyArgs& args) {
  const CounterRng rng(args.seed, args.key);
  const float keep = static_cast<float>(args.density);
  const float scale = args.rescale && args.rescale_by_probability ? 1.0f / keep : 1.0f;
  for (std::size_t j = 0; j < d.size(); ++j) d[j] = rng.uniform(j) < keep ? d[j] * scale : 0.0f;
}

// Keep probabilities of one row: linear in the rank of |d| (smallest first, ties to the
// lower index), from density - epsilon to density + epsilon.
void della_probabilities(std::span<const float> row, double density, double epsilon,
                         std::vector<std::size_t>& order, std::vector<double>& p) {
  const std::size_t n = row.size();
  p.assign(n, density);
  if (n == 1) return;  // weld: mergekit's (rank - 1)/(n - 1) is NaN here
  order.resize(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return rank_pair(magnitude_key(row[a]), a) < rank_pair(magnitude_key(row[b]), b);
  });
  for (std::size_t rank = 0; rank < n; ++rank)
    p[order[rank]] = density - epsilon + 2.0 * epsilon * static_cast<double>(rank) / static_cast<double>(n - 1);
}

void keep_della(std::span<float> d, const SparsifyArgs& args) {
  const CounterRng rng(args.seed, args.key);
  const std::size_t row_length = args.row_length ? args.row_length : d.size();
  std::vector<std::size_t> order;
  std::vector<double> p;
  for (std::size_t begin = 0; begin < d.size(); begin += row_length) {
    const std::span<float> row = d.subspan(begin, std::min(row_length, d.size() - begin));
    della_probabilities(row, args.density, args.epsilon, order, p);
    for (std::size_t j = 0; j < row.size(); ++j) {
      const bool kept = rng.uniform(begin + j) < static_cast<float>(p[j]);
      const double scale = args.rescale && args.rescale_by_probability ? 1.0 / p[j] : 1.0;
      row[j] = kept ? static_cast<float>(row[j] * scale) : 0.0f;
    }
  }
}

void rescale_l1(std::span<float> d, double l1_before) {
  const double l1_after = l1_norm(d);
  if (l1_before < kRescaleEpsilon || l1_after < kRescaleEpsilon) return;
  const double scale = l1_before / l1_after;
  for (float& x : d) x = static_cast<float>(x * scale);
}

}  // namespace

std::string_view sparsifier_name(Sparsifier s) {
  switch (s) {
    case Sparsifier::kNone: return "none";
    case Sparsifier::kMagnitude: return "magnitude";
    case Sparsifier::kRandom: return "random";
    case Sparsifier::kMagnitudeOutliers: return "magnitude_outliers";
    case Sparsifier::kDellaMagprune: return "della_magprune";
  }
  return "";
}

void sparsify(Sparsifier method, std::span<float> delta, const SparsifyArgs& args) {
  if (method == Sparsifier::kNone || args.density >= 1.0 || delta.empty()) return;
  if (args.density <= 0.0 && method != Sparsifier::kMagnitude) {
    std::fill(delta.begin(), delta.end(), 0.0f);
    return;
  }
  const bool by_probability = args.rescale_by_probability &&
      (method == Sparsifier::kRandom || method == Sparsifier::kDellaMagprune);
  const double l1_before = args.rescale && !by_probability ? l1_norm(delta) : 0.0;
  switch (method) {
    case Sparsifier::kNone: break;
    case Sparsifier::kMagnitude: keep_largest(delta, args.density, args.scratch); break;
    case Sparsifier::kRandom: keep_random(delta, args); break;
    case Sparsifier::kMagnitudeOutliers: keep_middle(delta, args.density, args.gamma, args.scratch); break;
    case Sparsifier::kDellaMagprune: keep_della(delta, args); break;
  }
  if (args.rescale && !by_probability) rescale_l1(delta, l1_before);
}

}  // namespace weld
