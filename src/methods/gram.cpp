#include "methods/gram.h"

#include <algorithm>
#include <array>

#include "tensor/convert.h"
#include "tensor/lanes.h"
#include "tensor/vector_clones.h"
#include "tensor/x86_intrinsics.h"
#include "util/check.h"

namespace weld {
namespace {

// Elements the converted path turns into f32 at a time.
constexpr std::size_t kConvertBlock = 256;

// add_to_gram_lanes on elements [first, last) through f32 blocks on the stack.
void add_to_gram_converted(std::span<const std::byte* const> x, const std::byte* base, DType dtype,
                           std::uint64_t first, std::uint64_t last, LaneSum* gram) noexcept {
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

#if defined(__x86_64__)

// The 8 doubles of the low and high halves of 16 floats.
[[gnu::always_inline]] WELD_TARGET_LANES inline void widen(Lanes v, __m512d& low, __m512d& high) noexcept {
  low = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
  high = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
}

// add_to_gram over whole blocks of 16 of N vectors: term j of a LaneSum goes to lane j mod 8,
// so the low 8 products of a block are added to the lanes, then the high 8. Returns how many
// elements it took. REQUIRES: every sum at lane 0.
template <DType T, std::size_t N>
WELD_TARGET_LANES std::size_t add_to_gram_fused(std::span<const std::byte* const> x, const std::byte* base,
                                                std::size_t count, LaneSum* gram) noexcept {
  constexpr std::size_t size = T == DType::kF32 ? 4 : 2, kSums = gram_sums(N);
  __m512d sums[kSums];
  for (std::size_t s = 0; s < kSums; ++s) sums[s] = _mm512_loadu_pd(gram[s].lanes_at_first());
  std::size_t j = 0;
  for (; j + kLaneWidth <= count; j += kLaneWidth) {
    __m512d base_low = _mm512_setzero_pd(), base_high = _mm512_setzero_pd();
    if (base) widen(lanes_detail::load16<T>(base + j * size, 0xffff), base_low, base_high);
    __m512d low[N], high[N];
    for (std::size_t i = 0; i < N; ++i) {
      widen(lanes_detail::load16<T>(x[i] + j * size, 0xffff), low[i], high[i]);
      if (base) {
        low[i] = _mm512_sub_pd(low[i], base_low);
        high[i] = _mm512_sub_pd(high[i], base_high);
      }
    }
    std::size_t s = 0;
    for (std::size_t i = 0; i < N; ++i)
      for (std::size_t k = i; k < N; ++k, ++s) {
        sums[s] = _mm512_add_pd(sums[s], _mm512_mul_pd(low[i], low[k]));
        sums[s] = _mm512_add_pd(sums[s], _mm512_mul_pd(high[i], high[k]));
      }
  }
  for (std::size_t s = 0; s < kSums; ++s) _mm512_storeu_pd(gram[s].lanes_at_first(), sums[s]);
  return j;
}

template <DType T>
std::size_t add_to_gram_fused(std::span<const std::byte* const> x, const std::byte* base, std::size_t count,
                              LaneSum* gram) noexcept {
  switch (x.size()) {
    case 2: return add_to_gram_fused<T, 2>(x, base, count, gram);
    case 3: return add_to_gram_fused<T, 3>(x, base, count, gram);
    case 4: return add_to_gram_fused<T, 4>(x, base, count, gram);
    default: return 0;
  }
}

#endif

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
  WELD_CHECK(x.size() <= kMaxLaneInputs);
  std::size_t done = 0;
#if defined(__x86_64__)
  const std::size_t sums = gram_sums(x.size());
  const bool at_first = std::all_of(gram, gram + sums, [](LaneSum& sum) { return sum.lanes_at_first() != nullptr; });
  if (lanes_are_fused() && at_first) {
    const std::size_t size = dtype_size(dtype);
    std::array<const std::byte*, kMaxLaneInputs> at;
    for (std::size_t i = 0; i < x.size(); ++i) at[i] = x[i] + first * size;
    const std::span<const std::byte* const> vectors(at.data(), x.size());
    const std::byte* base_at = base ? base + first * size : nullptr;
    done = dtype == DType::kBF16  ? add_to_gram_fused<DType::kBF16>(vectors, base_at, count, gram)
           : dtype == DType::kF16 ? add_to_gram_fused<DType::kF16>(vectors, base_at, count, gram)
                                  : add_to_gram_fused<DType::kF32>(vectors, base_at, count, gram);
  }
#endif
  add_to_gram_converted(x, base, dtype, first + done, first + count, gram);
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
