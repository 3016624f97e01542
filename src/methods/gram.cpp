#include "methods/gram.h"

#include "tensor/vector_clones.h"
#include "util/check.h"

namespace weld {

WELD_VECTOR_CLONES void add_to_gram(std::span<const float* const> x, const float* base, std::size_t first,
                                    std::size_t count, LaneSum* gram) noexcept {
  std::size_t pair = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const float* xi = x[i] + first;
    for (std::size_t k = i; k < x.size(); ++k, ++pair) {
      const float* xk = x[k] + first;
      if (base) {
        const float* b = base + first;
        gram[pair].add(count, [&](std::size_t j) { return (double{xi[j]} - b[j]) * (double{xk[j]} - b[j]); });
      } else {
        gram[pair].add(count, [&](std::size_t j) { return double{xi[j]} * xk[j]; });
      }
    }
  }
}

std::vector<double> gram_matrix(std::span<const LaneSum> gram, std::size_t n) {
  WELD_CHECK(gram.size() == gram_sums(n));
  std::vector<double> g(n * n);
  std::size_t pair = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = i; k < n; ++k, ++pair) g[i * n + k] = g[k * n + i] = gram[pair].value();
  return g;
}

}  // namespace weld
