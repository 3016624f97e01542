#include "tensor/window_scan.h"

#include "tensor/vector_clones.h"
#include "tensor/x86_intrinsics.h"

namespace weld {
namespace {

// low < k < high as one unsigned compare, k - first < width; width 0 when nothing lies
// strictly between the bounds (low == high, or high == low + 1).
struct Inside {
  std::uint32_t first, width;
  Inside(std::uint32_t low, std::uint32_t high) : first(low + 1), width(high > low ? high - low - 1 : 0) {}
};

// The portable counting pass: branch-free, which the compiler vectorises.
WELD_VECTOR_CLONES void count_window(const std::uint32_t* keys, std::size_t n, std::uint32_t low,
                                     std::uint32_t high, WindowScan& scan, std::size_t& inside) noexcept {
  const Inside in(low, high);
  std::uint32_t below = 0, equal_low = 0, equal_high = 0, count = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t k = keys[j];
    below += k < low;
    equal_low += k == low;
    equal_high += k == high;
    count += k - in.first < in.width;
  }
  scan.below += below;
  scan.equal_low += equal_low;
  scan.equal_high += equal_high;
  inside = count;
}

// The portable gathering pass: appends the keys inside, and their indices, after the `count`
// already gathered; returns the new count. Each block of 8 keys is tested with one vector
// compare first: only about one in eight holds a key of a 1% window. In such a block every
// key is written, and counted only if inside.
WELD_VECTOR_CLONES std::size_t gather_inside(const std::uint32_t* keys, std::size_t n, std::uint32_t low,
                                             std::uint32_t high, std::uint64_t begin, std::uint32_t* keys_out,
                                             std::uint32_t* index_out, std::size_t count) noexcept {
  const Inside in(low, high);
  const auto append = [&](std::size_t j) {
    keys_out[count] = keys[j];
    index_out[count] = static_cast<std::uint32_t>(begin + j);
    count += keys[j] - in.first < in.width;
  };
  using Block = std::uint32_t __attribute__((vector_size(32)));
  constexpr std::size_t kBlock = sizeof(Block) / sizeof(std::uint32_t);
  std::size_t block = 0;
  for (; block + kBlock <= n; block += kBlock) {
    Block k;
    __builtin_memcpy(&k, keys + block, sizeof k);
    const auto inside = (k - in.first) < in.width;  // lanes of all ones where inside
    std::uint64_t halves[sizeof inside / sizeof(std::uint64_t)];
    __builtin_memcpy(halves, &inside, sizeof halves);
    if ((halves[0] | halves[1] | halves[2] | halves[3]) == 0) continue;
    for (std::size_t j = block; j < block + kBlock; ++j) append(j);
  }
  for (std::size_t j = block; j < n; ++j) append(j);
  return count;
}

#if defined(__x86_64__)
// Whole vectors of 16 keys: the three counts in lane counters, and the keys inside compressed
// in a register and stored whole at the end of what is kept (a compressing store to memory is
// slow on Zen 4). Returns how many keys it scanned.
__attribute__((target("avx512f"))) std::size_t scan_window_avx512(const std::uint32_t* keys, std::size_t n,
                                                                  std::uint32_t low, std::uint32_t high,
                                                                  std::uint64_t begin, std::uint32_t* keys_out,
                                                                  std::uint32_t* index_out,
                                                                  WindowScan& scan) noexcept {
  const Inside in(low, high);
  const __m512i low_v = _mm512_set1_epi32(static_cast<int>(low));
  const __m512i high_v = _mm512_set1_epi32(static_cast<int>(high));
  const __m512i first_v = _mm512_set1_epi32(static_cast<int>(in.first));
  const __m512i width_v = _mm512_set1_epi32(static_cast<int>(in.width));
  const __m512i minus_one = _mm512_set1_epi32(-1);
  const __m512i lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  __m512i below = _mm512_setzero_si512(), equal_low = below, equal_high = below;
  std::size_t count = scan.inside;
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512i k = _mm512_loadu_si512(keys + j);
    below = _mm512_mask_sub_epi32(below, _mm512_cmplt_epu32_mask(k, low_v), below, minus_one);
    equal_low = _mm512_mask_sub_epi32(equal_low, _mm512_cmpeq_epi32_mask(k, low_v), equal_low, minus_one);
    equal_high = _mm512_mask_sub_epi32(equal_high, _mm512_cmpeq_epi32_mask(k, high_v), equal_high, minus_one);
    const __mmask16 inside = _mm512_cmplt_epu32_mask(_mm512_sub_epi32(k, first_v), width_v);
    if (inside == 0) continue;
    const __m512i index = _mm512_add_epi32(_mm512_set1_epi32(static_cast<int>(begin + j)), lanes);
    _mm512_storeu_si512(keys_out + count, _mm512_maskz_compress_epi32(inside, k));
    _mm512_storeu_si512(index_out + count, _mm512_maskz_compress_epi32(inside, index));
    count += static_cast<std::size_t>(__builtin_popcount(inside));
  }
  // Summed through memory: g++ 12's _mm512_reduce_add_epi32 trips -Wuninitialized (GCC bug
  // 105593, as in x86_intrinsics.h).
  alignas(64) std::uint32_t lanes_of[3][16];
  _mm512_store_si512(lanes_of[0], below);
  _mm512_store_si512(lanes_of[1], equal_low);
  _mm512_store_si512(lanes_of[2], equal_high);
  for (std::size_t lane = 0; lane < 16; ++lane) {
    scan.below += lanes_of[0][lane];
    scan.equal_low += lanes_of[1][lane];
    scan.equal_high += lanes_of[2][lane];
  }
  scan.inside = count;
  return j;
}
#endif

}  // namespace

WindowScan scan_window(std::span<const std::uint32_t> keys, std::uint32_t low, std::uint32_t high,
                       std::uint64_t begin, std::uint32_t* inside_keys, std::uint32_t* inside_index,
                       x86::Isa isa) noexcept {
  WindowScan scan;
  std::size_t j = 0;
#if defined(__x86_64__)
  if (isa == x86::Isa::kAvx512)
    j = scan_window_avx512(keys.data(), keys.size(), low, high, begin, inside_keys, inside_index, scan);
#else
  (void)isa;
#endif
  std::size_t inside = 0;
  count_window(keys.data() + j, keys.size() - j, low, high, scan, inside);
  if (inside > 0)
    scan.inside = gather_inside(keys.data() + j, keys.size() - j, low, high, begin + j, inside_keys,
                                inside_index, scan.inside);
  return scan;
}

}  // namespace weld
