// Sparsifiers of the task-arithmetic family: which elements of a task vector survive.
//
//   magnitude           (TIES trim)   keep the k = int(density n) largest |d|, ties to the
//                                     lower index; k = 0 is an error
//   random              (DARE)        keep each element with probability density
//   magnitude_outliers  (Breadcrumbs) drop the n_top = int(gamma n) largest and the n_bot
//                                     smallest |d|, n_bot = n - int(density n) - n_top
//   della_magprune      (DELLA)       keep with p = density - epsilon + 2 epsilon r, r the
//                                     rank of |d| in its row scaled to [0, 1]
// At density >= 1 every sparsifier returns d unchanged. With rescale, kept values are
// scaled so that the L1 norm is unchanged (mergekit), or divided by their keep probability
// (the DARE and DELLA papers) when rescale_by_probability is set.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "methods/scratch.h"

namespace weld {

enum class Sparsifier { kNone, kMagnitude, kRandom, kMagnitudeOutliers, kDellaMagprune };

std::string_view sparsifier_name(Sparsifier s);

struct SparsifyArgs {
  double density;
  double gamma;    // magnitude_outliers
  double epsilon;  // della_magprune
  bool rescale;
  bool rescale_by_probability;
  std::size_t row_length;  // della_magprune ranks within rows of this length (the last axis)
  std::uint64_t seed;      // random and della_magprune draw element i of the stream `key`
  std::string_view key;
  Scratch* scratch = nullptr;  // for selection keys; null means allocate
};

// Sparsifies `delta` in place. Throws weld::Error when magnitude would keep no element.
void sparsify(Sparsifier method, std::span<float> delta, const SparsifyArgs& args);

}  // namespace weld
