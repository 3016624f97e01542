#include "methods/gram.h"

#include <algorithm>
#include <array>

#include "methods/row_runs.h"
#include "tensor/convert.h"
#include "tensor/lane_sums.h"
#include "tensor/lanes.h"
#include "tensor/vector_clones.h"
#include "util/check.h"

namespace weld {
namespace {

// Elements the converted path turns into f32 at a time.
constexpr std::size_t kConvertBlock = 256;

// add_to_gram_lanes on elements [first, last) through f32 blocks on the stack.
void add_to_gram_converted(std::span<const std::byte* const> x, const std::byte* base, DType dtype,
                           std::uint64_t first, std::uint64_t last, LaneSum* gram) noexcept {
  WELD_CHECK(x.size() <= kMaxLaneInputs);
  const std::size_t size = dtype_size(dtype);
  float values[kMaxLaneInputs + 1][kConvertBlock];
  std::array<const float*, kMaxLaneInputs> vectors;
  for (std::size_t i = 0; i < x.size(); ++i) vectors[i] = values[i];
  for (std::uint64_t at = first; at < last; at += kConvertBlock) {
    const auto m = static_cast<std::size_t>(std::min<std::uint64_t>(kConvertBlock, last - at));
    for (std::size_t i = 0; i < x.size(); ++i) to_f32(dtype, x[i] + at * size, values[i], m);
    if (base) to_f32(dtype, base + at * size, values[kMaxLaneInputs], m);
    add_to_gram(std::span(vectors.data(), x.size()), base ? values[kMaxLaneInputs] : nullptr, 0, m, gram);
  }
}

// The Gram terms of N vectors (inputs 0 .. N-1), minus the base (input N) when there is one:
// (double(x_i) - b) * (double(x_k) - b), as add_to_gram computes them.
template <std::size_t N, bool kWithBase>
struct GramTerms {
  [[gnu::always_inline]] void operator()(const Lanes* x, DoubleLanes* t) const {
    DoubleLanes v[N];
    for (std::size_t i = 0; i < N; ++i) v[i] = __builtin_convertvector(x[i], DoubleLanes);
    if constexpr (kWithBase)
      for (std::size_t i = 0; i < N; ++i) v[i] -= __builtin_convertvector(x[N], DoubleLanes);
    std::size_t pair = 0;
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t k = i; k < N; ++k) t[pair++] = v[i] * v[k];
  }
};

template <std::size_t N>
void add_to_gram_lanes(std::span<const std::byte* const> x, const std::byte* base, DType dtype,
                       std::uint64_t first, std::size_t count, LaneSum* gram) noexcept {
  const std::size_t size = dtype_size(dtype);
  std::array<const std::byte*, N + 1> at;
  for (std::size_t i = 0; i < N; ++i) at[i] = x[i] + first * size;
  if (base) at[N] = base + first * size;
  std::array<LaneSum*, gram_sums(N)> sums;
  for (std::size_t s = 0; s < sums.size(); ++s) sums[s] = gram + s;
  if (base)
    add_lane_sums<N + 1>(LaneSpan{at, nullptr, count, dtype}, sums, GramTerms<N, true>{});
  else
    add_lane_sums<N>(LaneSpan{std::span(at.data(), N), nullptr, count, dtype}, sums, GramTerms<N, false>{});
}

}  // namespace

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

void add_to_gram_lanes(std::span<const std::byte* const> x, const std::byte* base, DType dtype,
                       std::uint64_t first, std::size_t count, LaneSum* gram) noexcept {
  switch (x.size()) {
    case 1: return add_to_gram_lanes<1>(x, base, dtype, first, count, gram);
    case 2: return add_to_gram_lanes<2>(x, base, dtype, first, count, gram);
    case 3: return add_to_gram_lanes<3>(x, base, dtype, first, count, gram);
    case 4: return add_to_gram_lanes<4>(x, base, dtype, first, count, gram);
    default: return add_to_gram_converted(x, base, dtype, first, first + count, gram);
  }
}

std::vector<LaneSum> gram_of_rows(const TensorReader& reader, std::span<const std::size_t> vectors,
                                  std::optional<std::size_t> base, std::uint64_t row_length) {
  const std::size_t sums = gram_sums(vectors.size());
  std::vector<LaneSum> gram(reader.numel / row_length * sums);
  if (reader.has_lanes()) {
    std::vector<const std::byte*> x(vectors.size());
    reader.for_each_lane_block(0, reader.numel, [&](const LaneSpan& block, std::uint64_t begin) {
      for (std::size_t i = 0; i < vectors.size(); ++i) x[i] = block.inputs[vectors[i]];
      const std::byte* b = base ? block.inputs[*base] : nullptr;
      for_each_row_run(begin, block.n, row_length, [&](std::uint64_t row, std::size_t first, std::size_t count) {
        add_to_gram_lanes(x, b, block.dtype, first, count, &gram[row * sums]);
      });
      return true;
    });
    return gram;
  }
  std::vector<const float*> x(vectors.size());
  reader.for_each_tile([&](const Tile& tile) {
    for (std::size_t i = 0; i < vectors.size(); ++i) x[i] = tile.inputs[vectors[i]];
    const float* b = base ? tile.inputs[*base] : nullptr;
    for_each_row_run(tile.begin, tile.n, row_length, [&](std::uint64_t row, std::size_t first, std::size_t count) {
      add_to_gram(x, b, first, count, &gram[row * sums]);
    });
    return true;
  });
  return gram;
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
