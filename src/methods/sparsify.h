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
//
// The whole-tensor parts (the selection thresholds, the two L1 norms) are found either in
// memory by sparsify(), or streamed by the caller through a TaskVectorSparsifier: it says
// which ranks to select among which keys and whether L1 norms are needed, takes the
// results, and then masks and rescales any range of the task vector on its own.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "methods/scratch.h"
#include "tensor/lanes.h"
#include "tensor/lane_sum.h"
#include "tensor/rank_keep.h"
#include "tensor/masked_delta.h"
#include "tensor/rng.h"
#include "tensor/select.h"

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
};

// What a TaskVectorSparsifier does to 16 elements of its task vector on the fused path
// (tensor/lanes.h, run_lanes_fused): the same operations as mask() then rescale(), in the
// same order.
struct LaneMask {
  // kRankBelow: kRankPairs with nothing dropped below (first_kept 0: TIES keeps the largest),
  // one bound to test instead of two.
  enum class Kind { kAll, kNone, kBits, kRankPairs, kRankBelow, kDraws };
  Kind kind = Kind::kAll;
  const std::uint8_t* bits = nullptr;  // kBits: the kept bits (tensor/bitmask.h)
  std::uint64_t bit_bytes = 0;
  std::uint64_t first_kept = 0, first_dropped = 0;  // kRankPairs, as keep_pairs_between
  std::uint32_t flip = 0;
  // kDraws: kept where the draw is below keep (its bits at most last_kept), times keep_scale.
  const CounterRng* rng = nullptr;
  std::uint32_t last_kept = 0;
  float keep_scale = 1.0f;
  bool scaled = false;  // then times scale
  float scale = 1.0f;

  // d = rescale(mask(d)) for the elements [index, index + 16) of the task vector. For
  // run_lanes_fused only: compiled for AVX-512 from the start, as GCC 12 lowers comparisons
  // of these vectors that it meets outside (combined, or unsigned) to scalar code.
  [[gnu::always_inline]] WELD_TARGET_LANES void apply(Lanes& d, std::uint64_t index) const noexcept {
    switch (kind) {
      case Kind::kAll: return apply_as<Kind::kAll>(d, index);
      case Kind::kNone: return apply_as<Kind::kNone>(d, index);
      case Kind::kBits: return apply_as<Kind::kBits>(d, index);
      case Kind::kRankPairs: return apply_as<Kind::kRankPairs>(d, index);
      case Kind::kRankBelow: return apply_as<Kind::kRankBelow>(d, index);
      case Kind::kDraws: return apply_as<Kind::kDraws>(d, index);
    }
  }
  // The same for a mask known to be of kind K, which spares a loop the switch.
  template <Kind K>
  [[gnu::always_inline]] WELD_TARGET_LANES void apply_as(Lanes& d, std::uint64_t index) const noexcept {
    if constexpr (K == Kind::kNone) {
      d = Lanes{};
    } else if constexpr (K == Kind::kBits) {
#if defined(__x86_64__)
      // The bits are the lanes' mask as they stand (the first in bit 0): one move into a mask
      // register in place of a broadcast, a shift, an and and a compare per task vector
      // (BM_family_lanes/*/1, minima of 15 in three alternating rounds: dare_linear
      // 0.249-0.261 -> 0.220-0.224 ms, dare_ties 0.431-0.439 -> 0.385-0.410, della
      // 0.528-0.542 -> 0.487-0.528).
      d = _mm512_maskz_mov_ps(static_cast<__mmask16>(bits16(index)), d);
#else
      const LaneBits iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
      const LaneBits set = ((LaneBits{} + static_cast<std::int32_t>(bits16(index))) >> iota & 1) != 0;
      lane_select(set, d, Lanes{}, d);
#endif
    } else if constexpr (K == Kind::kRankPairs || K == Kind::kRankBelow) {
      // Kept where (key, index) lies in [first_kept, first_dropped), as keep_pairs_between.
      const LaneKeys key = (reinterpret_cast<LaneKeys>(d) & 0x7fffffffu) ^ flip;
      const auto at = static_cast<std::uint32_t>(index);
      LaneBits kept = below_pair(key, at, first_dropped);
      if constexpr (K == Kind::kRankPairs) kept &= ~below_pair(key, at, first_kept);
      lane_select(kept, d, Lanes{}, d);
    } else if constexpr (K == Kind::kDraws) {
      CounterRng::DrawBits halves;
      rng->draw_bits_lanes(index, halves);
      lane_select(halves <= last_kept, d * keep_scale, Lanes{}, d);
    }
    if (scaled) d *= scale;
  }

 private:
  using LaneKeys = std::uint32_t __attribute__((vector_size(64)));
  // The lanes whose (key, at + lane) pair is below `pair`. Only the one block that holds the
  // pair's index compares indices: before it every lane with the pair's key is below, after
  // it none is (TIES's merge kernel, BM_family_lanes/ties/1: 0.70-0.79 -> 0.67-0.68 ms).
  [[gnu::always_inline]] WELD_TARGET_LANES static LaneBits below_pair(const LaneKeys& key, std::uint32_t at,
                                                                       std::uint64_t pair) noexcept {
    const auto pair_key = static_cast<std::uint32_t>(pair >> 32);
    const auto pair_index = static_cast<std::uint32_t>(pair);
    if (at >= pair_index) return key < pair_key;
    if (pair_index - at >= kLaneWidth) return key <= pair_key;
    const LaneKeys iota = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    return (key < pair_key) | ((key == pair_key) & (at + iota < pair_index));
  }
  // The bits of elements [index, index + 16), the first in bit 0.
  [[gnu::always_inline]] std::uint32_t bits16(std::uint64_t index) const noexcept {
    const std::uint64_t byte = index / 8;
    std::uint32_t word = 0;
    if (index % 8 == 0 && byte + 2 <= bit_bytes) {
      std::uint16_t two;
      __builtin_memcpy(&two, bits + byte, sizeof two);
      return two;
    }
    for (std::uint64_t k = 0; k < 3 && byte + k < bit_bytes; ++k) word |= std::uint32_t{bits[byte + k]} << (8 * k);
    return (word >> (index % 8)) & 0xffffu;
  }
};

class TaskVectorSparsifier {
 public:
  // For a task vector of n elements. Throws weld::Error when magnitude would keep no element.
  TaskVectorSparsifier(Sparsifier method, const SparsifyArgs& args, std::uint64_t n);

  // Ranks to select among selection_key(d_j) (ties to the lower index); empty when none.
  const std::vector<std::uint64_t>& selection_ranks() const { return ranks_; }
  std::uint32_t selection_key(float d) const noexcept {
    // Largest magnitude first for magnitude: the complement reverses the order, not the index.
    return method_ == Sparsifier::kMagnitude ? ~magnitude_key(d) : magnitude_key(d);
  }
  // keys[j] = selection_key(x[j] - b[j]) for j < n, vectorised.
  void selection_keys(const float* x, const float* b, std::size_t n, std::uint32_t* keys) const noexcept;
  // The same from the inputs' own bytes (tensor/lanes.h).
  void selection_keys(const std::byte* x, const std::byte* b, DType dtype, std::size_t n,
                      std::uint32_t* keys) const noexcept;
  // The packed (key, index) pairs at selection_ranks(), in the same order.
  void set_selected(std::span<const std::uint64_t> pairs);

  // Whether rescale() needs the L1 norms of d before and after mask().
  bool needs_l1_norms() const { return l1_rescale_; }

  // The L1 pass (REQUIRES: needs_l1_norms()) adds the norms of the task vector before and
  // after the mask by segments of l1_segment() elements (whole rows for della_magprune),
  // each a sum of its own; finish_l1_norms() adds them in segment order. So the segments of
  // a tensor may be passed on several threads at once (each seeing its elements once, in
  // order), and every path and thread count gets the same norms to the bit.
  std::uint64_t l1_segment() const noexcept;
  struct L1Norms {
    double before, after;
  };
  // Ends the L1 pass: the norms, whose ratio rescale() then applies.
  L1Norms finish_l1_norms();

  // The L1 pass over elements [begin, begin + n) of the task vector x - b. The random
  // sparsifiers also remember which elements survived (a bit each), so that the merge reads
  // the bits instead of drawing (and, for della_magprune, ranking rows) again, for tensors of
  // up to kMaxRandomBitsElements (below). Calls for different segments may run at once.
  void add_l1_norms(const float* x, const float* b, std::uint64_t begin, std::size_t n, Scratch& scratch);
  // The L1 pass on a task vector in memory: mask(d) as the pass sees d (elements [begin,
  // begin + d.size()); whole rows for della_magprune).
  void mask_in_l1_pass(std::span<float> d, std::uint64_t begin, Scratch& scratch);
  // Whether add_l1_norms_lanes() can make the L1 pass: the random sparsifier draws in
  // registers, della_magprune ranks rows of the task vector taken from the bytes.
  bool has_fused_l1_pass() const noexcept {
    return method_ == Sparsifier::kRandom || method_ == Sparsifier::kDellaMagprune;
  }
  // The L1 pass must be given a multiple of this many elements at a time (or the rest of the
  // tensor): whole rows for della_magprune.
  std::size_t l1_pass_unit() const noexcept {
    return method_ == Sparsifier::kDellaMagprune && args_.row_length ? args_.row_length : 1;
  }
  // add_l1_norms() from the inputs' own bytes (tensor/lanes.h). REQUIRES: has_fused_l1_pass(),
  // begin and n multiples of l1_pass_unit() (n may end the tensor). The random sparsifiers of
  // a tensor of more than kMaxRandomBitsElements keep no bits, on either path: the merge pass
  // draws again (LaneMask::Kind::kDraws, or mask() on tiles; della_magprune also ranks its
  // rows again, on tiles: the same elements), so that what a tensor holds between its
  // passes stays at most 8 MB per fine-tune, whatever the vocabulary (a 128256 x 4096
  // embedding would take 66 MB). Reading bits is the faster merge pass, for the rest: at 2^24
  // (2 MB) the 32000 x 2048 embedding and head of a 1B Llama made DELLA's keep test twice,
  // and 22-layer della took 3.94-4.50 s of user time against 3.50-3.63 s at 2^26.
  static constexpr std::uint64_t kMaxRandomBitsElements = std::uint64_t{1} << 26;
  void add_l1_norms_lanes(const std::byte* x, const std::byte* b, DType dtype, std::uint64_t begin, std::size_t n,
                          Scratch& scratch);

  // weight * rescale(mask(x - b)) over elements [begin, begin + n) of the task vector, stored
  // in out or added to it. REQUIRES: whole rows when needs_whole_rows().
  void weighted_delta(const float* x, const float* b, std::uint64_t begin, std::size_t n, float weight, float* out,
                      Into into, Scratch& scratch) const;
  // Whether weighted_delta() must see whole rows: della_magprune ranks within them, unless
  // the L1 pass left it the bits of its mask.
  bool needs_whole_rows() const noexcept;

  // Zeroes the dropped elements of d = elements [begin, begin + d.size()) of the task vector
  // (scaling kept ones by 1/p for the papers' rescale). della_magprune needs whole rows.
  void mask(std::span<float> d, std::uint64_t begin, Scratch& scratch) const;
  // Multiplies by the L1 ratio, when finish_l1_norms() found one.
  void rescale(std::span<float> d) const noexcept;
  // mask() and rescale() for the fused path, once the statistics are set; none where mask()
  // needs whole rows.
  std::optional<LaneMask> lane_mask() const noexcept;

 private:
  Sparsifier method_;
  SparsifyArgs args_;
  std::uint64_t n_;
  bool keep_all_ = false;
  bool drop_all_ = false;
  bool l1_rescale_ = false;
  bool has_bottom_ = false;  // magnitude_outliers: which ranks_ there are
  bool has_top_ = false;
  std::vector<std::uint64_t> ranks_;
  // Kept: pairs in [first_kept_, first_dropped_) in selection-key order.
  std::uint64_t first_kept_ = 0;
  std::uint64_t first_dropped_ = std::numeric_limits<std::uint64_t>::max();

  // The random sparsifiers' bits: filled by the L1 pass (allocated up front, as segments may
  // fill them at once; none above kMaxRandomBitsElements), read by mask() once it is finished.
  std::vector<std::uint8_t> pending_bits_;
  std::vector<std::uint8_t> kept_bits_;
  std::vector<LaneSum> l1_before_, l1_after_;  // by segment

  std::uint8_t* pending_bits() noexcept { return pending_bits_.empty() ? nullptr : pending_bits_.data(); }
  // Calls step(first, count, before, after) for the pieces [first, first + count) that cut
  // elements [begin, begin + n) at segment boundaries, with their segment's sums.
  template <typename Step>
  void for_each_l1_piece(std::uint64_t begin, std::size_t n, const Step& step);
  void mask_by_rank(std::span<float> d, std::uint64_t begin) const noexcept;
  // mask() for della_magprune, on whole rows; with a tally, it also makes the L1 pass's steps
  // for them in the same sweep (tensor/rank_keep.h).
  void keep_della_rows(std::span<float> d, std::uint64_t begin, Scratch& scratch, const KeepTally* tally) const;
  // della_magprune's keep probabilities by rank in a row of row_length elements.
  RankProbability della_probability(std::size_t row_length) const noexcept;
  // The L1 pass's steps on d, elements [begin, begin + d.size()) of the task vector: its norms
  // before and after mask(d) added to before and after, and its bits set.
  void l1_step(std::span<float> d, std::uint64_t begin, LaneSum& before, LaneSum& after, Scratch& scratch);
  // The L1 pass's steps over elements [begin, begin + n) of the task vector, a block at a time
  // so that the steps find it in L1 (whole rows for della_magprune): task_vector(first, d)
  // sets d to elements [begin + first, begin + first + d.size()).
  void add_l1_norms_by_blocks(std::uint64_t begin, std::size_t n, LaneSum& before, LaneSum& after, Scratch& scratch,
                              const std::function<void(std::size_t first, std::span<float> d)>& task_vector);
  // What selection keys are xor'ed with: magnitude selects the largest first.
  std::uint32_t key_flip() const noexcept { return method_ == Sparsifier::kMagnitude ? 0xffffffffu : 0u; }
  // The L1 ratio before / after, found in double and applied in float, as mergekit's float32
  // tensors apply it (a product in double then rounded held DARE's merge pass on 8 conversions
  // per 16 elements).
  float scale_ = 1.0f;
  bool scaled_ = false;
  CounterRng rng_;
  CounterRng rivals_;  // della_magprune: each element's rival in its row (tensor/rank_keep.h)
};

// The whole path: sparsifies `delta` in place, every statistic found in memory.
void sparsify(Sparsifier method, std::span<float> delta, const SparsifyArgs& args, Scratch* scratch = nullptr);

// Adds |x| of the next elements of a task vector to its L1 norm (in double, in lanes: the
// streamed path adds tile after tile and gets the whole path's sum to the bit).
void add_l1_norm(std::span<const float> v, LaneSum& norm) noexcept;

}  // namespace weld
