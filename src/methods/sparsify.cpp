#include "methods/sparsify.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "tensor/bitmask.h"
#include "tensor/masked_delta.h"
#include "tensor/rank_keep.h"
#include "tensor/row_rank.h"
#include "tensor/select.h"
#include "tensor/vector_clones.h"
#include "util/check.h"
#include "util/error.h"

namespace weld {
namespace {

// The scratch float buffer the random masks draw into (the family's tiles use slots 0 and up
// for their own buffers, so this one is out of their way).
constexpr std::size_t kUniformSlot = 1000;
constexpr std::size_t kRankSlot = 1000;      // keys: DELLA's ranks
constexpr std::size_t kRankWorkSlot = 1001;  // keys: the work of ranking and of keep_by_rank
constexpr std::size_t kDeltaSlot = 1002;  // floats: a task vector the caller has no room for

// Draws the random sparsifier's L1 pass makes at a time.
constexpr std::size_t kDrawBlock = 2048;

// Elements per segment of the L1 pass (about): a segment's work (2-5 ms) is far above the cost
// of handing it to a worker, and a 32000 x 2048 embedding has 63 of them to share.
constexpr std::uint64_t kL1SegmentElements = std::uint64_t{1} << 20;

// Below this an L1 norm is taken as zero and no rescale is done (mergekit's threshold).
constexpr double kRescaleEpsilon = 1e-7;

std::uint64_t truncated_count(double fraction, std::uint64_t n) {
  return static_cast<std::uint64_t>(std::max(0.0, fraction * static_cast<double>(n)));
}

// Keeps the elements of d whose (key, index) pair lies in [first_kept, first_dropped), d[j]
// being element first + j. The pairs are compared as two 32-bit halves, which the compiler
// turns into vector compares.
WELD_VECTOR_CLONES void keep_pairs_between(float* d, std::size_t n, std::uint32_t first, bool complement,
                                           std::uint64_t first_kept, std::uint64_t first_dropped) noexcept {
  const auto kept_key = static_cast<std::uint32_t>(first_kept >> 32);
  const auto kept_index = static_cast<std::uint32_t>(first_kept);
  const auto dropped_key = static_cast<std::uint32_t>(first_dropped >> 32);
  const auto dropped_index = static_cast<std::uint32_t>(first_dropped);
  const std::uint32_t flip = complement ? 0xffffffffu : 0u;
  for (std::size_t j = 0; j < n; ++j) {
    std::uint32_t bits;
    __builtin_memcpy(&bits, &d[j], sizeof bits);
    const std::uint32_t key = (bits & 0x7fffffffu) ^ flip;
    const std::uint32_t index = first + static_cast<std::uint32_t>(j);
    const bool from_first = (key > kept_key) | ((key == kept_key) & (index >= kept_index));
    const bool before_dropped = (key < dropped_key) | ((key == dropped_key) & (index < dropped_index));
    d[j] = (from_first & before_dropped) ? d[j] : 0.0f;
  }
}

// keys[j] = magnitude_key(x[j] - b[j]) ^ flip.
WELD_VECTOR_CLONES void delta_keys(const float* x, const float* b, std::size_t n, std::uint32_t flip,
                                   std::uint32_t* keys) noexcept {
  for (std::size_t j = 0; j < n; ++j) keys[j] = magnitude_key(x[j] - b[j]) ^ flip;
}

WELD_VECTOR_CLONES void multiply(float* v, float w, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) v[j] *= w;
}

WELD_VECTOR_CLONES void add_to(float* sum, const float* v, std::size_t n) noexcept {
  for (std::size_t j = 0; j < n; ++j) sum[j] += v[j];
}

WELD_VECTOR_CLONES void scale_by(float* d, std::size_t n, float scale) noexcept {
  for (std::size_t j = 0; j < n; ++j) d[j] *= scale;
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

WELD_VECTOR_CLONES void add_l1_norm(std::span<const float> v, LaneSum& norm) noexcept {
  norm.add(v.size(), [&](std::size_t j) { return std::abs(static_cast<double>(v[j])); });
}

TaskVectorSparsifier::TaskVectorSparsifier(Sparsifier method, const SparsifyArgs& args, std::uint64_t n)
    : method_(method), args_(args), n_(n), rng_(args.seed, args.key), rivals_(rng_.substream("della rivals")) {
  if (method == Sparsifier::kNone || args.density >= 1.0 || n == 0) {
    keep_all_ = true;
    return;
  }
  // Draws are tested against the density in float: one that rounds to +0 keeps nothing either.
  const bool keeps_none =
      method == Sparsifier::kRandom ? static_cast<float>(args.density) <= 0.0f : args.density <= 0.0;
  if (keeps_none && method != Sparsifier::kMagnitude) {
    drop_all_ = true;
    return;
  }
  const bool by_probability = args.rescale_by_probability &&
      (method == Sparsifier::kRandom || method == Sparsifier::kDellaMagprune);
  l1_rescale_ = args.rescale && !by_probability;
  if (method == Sparsifier::kMagnitude) {
    const std::uint64_t k = truncated_count(args.density, n);
    if (k == 0) fail("density {} keeps no element of {} (int(density * n) = 0)", args.density, n);
    if (k >= n) {
      keep_all_ = true;
      l1_rescale_ = false;
      return;
    }
    ranks_ = {k - 1};  // the last kept, largest magnitude first
  } else if (method == Sparsifier::kMagnitudeOutliers) {
    auto n_top = static_cast<std::int64_t>(truncated_count(args.gamma, n));
    auto n_bot = static_cast<std::int64_t>(n - truncated_count(args.density, n)) - n_top;
    if (n_bot < 0) {
      n_top += n_bot;
      n_bot = 0;
    }
    const auto top_begin = static_cast<std::int64_t>(n) - n_top;
    if (n_bot >= top_begin) {
      drop_all_ = true;
      l1_rescale_ = false;
      return;
    }
    // weld: with n_top = 0 every rank from n_bot up is kept (mergekit's slice drops them all).
    has_bottom_ = n_bot > 0;
    has_top_ = n_top > 0;
    if (has_bottom_) ranks_.push_back(static_cast<std::uint64_t>(n_bot));
    if (has_top_) ranks_.push_back(static_cast<std::uint64_t>(top_begin));
  }
  if (!l1_rescale_) return;
  const std::uint64_t segments = (n + l1_segment() - 1) / l1_segment();
  l1_before_.resize(segments);
  l1_after_.resize(segments);
  if (has_fused_l1_pass() && n <= kMaxRandomBitsElements) pending_bits_.assign(bitmask_bytes(n), 0);
}

void TaskVectorSparsifier::selection_keys(const float* x, const float* b, std::size_t n,
                                          std::uint32_t* keys) const noexcept {
  delta_keys(x, b, n, key_flip(), keys);
}

void TaskVectorSparsifier::selection_keys(const std::byte* x, const std::byte* b, DType dtype, std::size_t n,
                                          std::uint32_t* keys) const noexcept {
  delta_keys_lanes(x, b, dtype, key_flip(), n, keys);
}

void TaskVectorSparsifier::set_selected(std::span<const std::uint64_t> pairs) {
  WELD_CHECK(pairs.size() == ranks_.size());
  if (method_ == Sparsifier::kMagnitude) {
    first_dropped_ = pairs[0] + 1;
    return;
  }
  // magnitude_outliers: the first kept rank (n_bot), then the first dropped one at the top.
  std::size_t i = 0;
  if (has_bottom_) first_kept_ = pairs[i++];
  if (has_top_) first_dropped_ = pairs[i++];
}

std::uint64_t TaskVectorSparsifier::l1_segment() const noexcept {
  // Whole rows, and whole 16-element blocks of bits (the fused kernels store two bytes at a
  // time), so that no two segments write one byte.
  const std::uint64_t unit = std::lcm<std::uint64_t>(l1_pass_unit(), 16);
  return std::max<std::uint64_t>(1, kL1SegmentElements / unit) * unit;
}

template <typename Step>
void TaskVectorSparsifier::for_each_l1_piece(std::uint64_t begin, std::size_t n, const Step& step) {
  WELD_CHECK(l1_rescale_ && begin + n <= n_);
  const std::uint64_t segment = l1_segment();
  for (std::uint64_t first = begin, end = begin + n; first < end;) {
    const std::uint64_t s = first / segment;
    const std::uint64_t last = std::min(end, (s + 1) * segment);
    step(first, static_cast<std::size_t>(last - first), l1_before_[s], l1_after_[s]);
    first = last;
  }
}

TaskVectorSparsifier::L1Norms TaskVectorSparsifier::finish_l1_norms() {
  WELD_CHECK(l1_rescale_);
  L1Norms norms{0.0, 0.0};
  for (std::size_t s = 0; s < l1_before_.size(); ++s) {
    norms.before += l1_before_[s].value();
    norms.after += l1_after_[s].value();
  }
  kept_bits_ = std::exchange(pending_bits_, {});  // complete now: mask() may read them
  if (norms.before >= kRescaleEpsilon && norms.after >= kRescaleEpsilon) {
    scale_ = static_cast<float>(norms.before / norms.after);
    scaled_ = true;
  }
  return norms;
}

void TaskVectorSparsifier::add_l1_norms(const float* x, const float* b, std::uint64_t begin, std::size_t n,
                                        Scratch& scratch) {
  for_each_l1_piece(begin, n, [&](std::uint64_t first, std::size_t count, LaneSum& before, LaneSum& after) {
    const float* xs = x + (first - begin);
    const float* bs = b + (first - begin);
    if (method_ == Sparsifier::kRandom) {
      // One fused sweep per block of draws (a block of them stays in L1).
      const auto keep = static_cast<float>(args_.density);
      for (std::size_t at = 0; at < count; at += kDrawBlock) {
        const std::size_t m = std::min(kDrawBlock, count - at);
        const std::span<float> u = scratch.floats(kUniformSlot, m);
        rng_.fill_draws(first + at, u.data(), m);
        random_keep_l1(xs + at, bs + at, u.data(), keep, first + at, m, pending_bits(), before, after);
      }
      return;
    }
    add_l1_norms_by_blocks(first, count, before, after, scratch, [&](std::size_t at, std::span<float> d) {
      masked_weighted_delta(xs + at, bs + at, nullptr, first + at, std::nullopt, 1.0f, d.data(), d.size());
    });
  });
}

void TaskVectorSparsifier::mask_in_l1_pass(std::span<float> d, std::uint64_t begin, Scratch& scratch) {
  for_each_l1_piece(begin, d.size(), [&](std::uint64_t first, std::size_t count, LaneSum& before, LaneSum& after) {
    l1_step(d.subspan(first - begin, count), first, before, after, scratch);
  });
}

void TaskVectorSparsifier::l1_step(std::span<float> d, std::uint64_t begin, LaneSum& before, LaneSum& after,
                                   Scratch& scratch) {
  if (method_ == Sparsifier::kDellaMagprune) {
    const KeepTally tally{&before, &after, pending_bits()};
    keep_della_rows(d, begin, scratch, &tally);
    return;
  }
  add_l1_norm(d, before);
  mask(d, begin, scratch);
  add_l1_norm(d, after);
  if (std::uint8_t* bits = pending_bits()) set_bits_of_nonzero(d, begin, bits);
}

void TaskVectorSparsifier::add_l1_norms_by_blocks(
    std::uint64_t begin, std::size_t n, LaneSum& before, LaneSum& after, Scratch& scratch,
    const std::function<void(std::size_t first, std::span<float> d)>& task_vector) {
  const std::size_t block = std::max<std::size_t>(1, kDrawBlock / l1_pass_unit()) * l1_pass_unit();
  for (std::size_t first = 0; first < n; first += block) {
    const std::span<float> d = scratch.floats(kDeltaSlot, std::min(block, n - first));
    task_vector(first, d);
    l1_step(d, begin + first, before, after, scratch);
  }
}

void TaskVectorSparsifier::add_l1_norms_lanes(const std::byte* x, const std::byte* b, DType dtype,
                                              std::uint64_t begin, std::size_t n, Scratch& scratch) {
  WELD_CHECK(has_fused_l1_pass() && begin % l1_pass_unit() == 0);
  const std::size_t size = dtype_size(dtype);
  for_each_l1_piece(begin, n, [&](std::uint64_t first, std::size_t count, LaneSum& before, LaneSum& after) {
    const std::byte* xs = x + (first - begin) * size;
    const std::byte* bs = b + (first - begin) * size;
    if (method_ == Sparsifier::kRandom) {
      random_keep_l1_lanes(xs, bs, dtype, rng_, static_cast<float>(args_.density), first, count, pending_bits(),
                           before, after);
      return;
    }
    if (!lanes_are_fused()) {  // della_magprune: the steps of the tile path on d taken from the bytes
      add_l1_norms_by_blocks(first, count, before, after, scratch, [&](std::size_t at, std::span<float> d) {
        delta_lanes(xs + at * size, bs + at * size, dtype, d.size(), d.data());
      });
      return;
    }
    // The same in one sweep a row (tensor/rank_keep.h): d, its keys and the draws, settled.
    const KeepTally tally{&before, &after, pending_bits()};
    const std::size_t row_length = args_.row_length ? args_.row_length : count;
    for (std::size_t at = 0; at < count; at += row_length) {
      const std::size_t m = std::min(row_length, count - at);
      keep_by_rank_lanes(xs + at * size, bs + at * size, dtype, scratch.floats(kDeltaSlot, m), della_probability(m),
                         rng_, rivals_, first + at, scratch.keys(rank_keep_work_size(m), kRankWorkSlot), tally);
    }
  });
}

void TaskVectorSparsifier::weighted_delta(const float* x, const float* b, std::uint64_t begin, std::size_t n,
                                          float weight, float* out, Into into, Scratch& scratch) const {
  if (keep_all_ || !kept_bits_.empty()) {
    masked_weighted_delta(x, b, keep_all_ ? nullptr : kept_bits_.data(), begin,
                          scaled_ ? std::optional(scale_) : std::nullopt, weight, out, n, into);
    return;
  }
  const std::span<float> d = into == Into::kAdd ? scratch.floats(kDeltaSlot, n) : std::span(out, n);
  masked_weighted_delta(x, b, nullptr, begin, std::nullopt, 1.0f, d.data(), n);  // d = x - b
  mask(d, begin, scratch);
  rescale(d);
  multiply(d.data(), weight, n);
  if (into == Into::kAdd) add_to(out, d.data(), n);
}

bool TaskVectorSparsifier::needs_whole_rows() const noexcept {
  return method_ == Sparsifier::kDellaMagprune && !keep_all_ && !drop_all_ && kept_bits_.empty();
}

void TaskVectorSparsifier::mask(std::span<float> d, std::uint64_t begin, Scratch& scratch) const {
  if (keep_all_) return;
  if (!kept_bits_.empty()) {
    zero_where_clear(d, begin, kept_bits_.data());
    return;
  }
  if (drop_all_) {
    std::fill(d.begin(), d.end(), 0.0f);
    return;
  }
  switch (method_) {
    case Sparsifier::kNone:
      break;
    case Sparsifier::kMagnitude:
    case Sparsifier::kMagnitudeOutliers:
      mask_by_rank(d, begin);
      break;
    case Sparsifier::kRandom: {
      const auto keep = static_cast<float>(args_.density);
      const float scale = args_.rescale && args_.rescale_by_probability ? 1.0f / keep : 1.0f;
      const std::span<float> u = scratch.floats(kUniformSlot, d.size());
      rng_.fill_draws(begin, u.data(), u.size());
      for (std::size_t j = 0; j < d.size(); ++j) d[j] = u[j] < keep ? d[j] * scale : 0.0f;
      break;
    }
    case Sparsifier::kDellaMagprune:
      keep_della_rows(d, begin, scratch, nullptr);
      break;
  }
}

void TaskVectorSparsifier::mask_by_rank(std::span<float> d, std::uint64_t begin) const noexcept {
  keep_pairs_between(d.data(), d.size(), static_cast<std::uint32_t>(begin), method_ == Sparsifier::kMagnitude,
                     first_kept_, first_dropped_);
}

void TaskVectorSparsifier::keep_della_rows(std::span<float> d, std::uint64_t begin, Scratch& scratch,
                                           const KeepTally* tally) const {
  const std::size_t row_length = args_.row_length ? args_.row_length : d.size();
  WELD_CHECK(begin % row_length == 0);
  const bool by_probability = args_.rescale && args_.rescale_by_probability;
  WELD_CHECK(!(tally && by_probability));  // the L1 pass is for the L1 rescale only
  for (std::size_t start = 0; start < d.size(); start += row_length) {
    const std::span<float> row = d.subspan(start, std::min(row_length, d.size() - start));
    const RankProbability p = della_probability(row.size());
    const std::span<float> u = scratch.floats(kUniformSlot, row.size());
    rng_.fill_draws(begin + start, u.data(), u.size());
    const auto keep = [&] {
      keep_by_rank(row, u, p, rivals_, begin + start, scratch.keys(rank_keep_work_size(row.size()), kRankWorkSlot),
                   tally);
    };
    if (!by_probability) {
      keep();
      continue;
    }
    // Kept values are divided by their own p: every rank is needed, of the row as it was.
    const std::span<std::uint32_t> rank = scratch.keys(row.size(), kRankSlot);
    magnitude_ranks(row, scratch.keys(rank_work_size(row.size()), kRankWorkSlot), rank);
    keep();
    for (std::size_t j = 0; j < row.size(); ++j)
      if (row[j] != 0.0f) row[j] = static_cast<float>(row[j] / p.at(rank[j]));
  }
}

RankProbability TaskVectorSparsifier::della_probability(std::size_t row_length) const noexcept {
  // Keep probabilities linear in the rank, from density - epsilon to density + epsilon.
  // weld: a row of one keeps with p = density (mergekit's (rank - 1)/(n - 1) is NaN).
  return {row_length > 1 ? args_.density - args_.epsilon : args_.density,
          row_length > 1 ? 2.0 * args_.epsilon / static_cast<double>(row_length - 1) : 0.0};
}

void TaskVectorSparsifier::rescale(std::span<float> d) const noexcept {
  if (scaled_) scale_by(d.data(), d.size(), scale_);
}

std::optional<LaneMask> TaskVectorSparsifier::lane_mask() const noexcept {
  LaneMask m{.scaled = scaled_, .scale = scale_};
  if (keep_all_) return m;
  if (!kept_bits_.empty()) {
    m.kind = LaneMask::Kind::kBits;
    m.bits = kept_bits_.data();
    m.bit_bytes = kept_bits_.size();
    return m;
  }
  if (drop_all_) {
    m.kind = LaneMask::Kind::kNone;
    return m;
  }
  switch (method_) {
    case Sparsifier::kNone:
      return m;
    case Sparsifier::kMagnitude:
    case Sparsifier::kMagnitudeOutliers:
      m.kind = first_kept_ == 0 ? LaneMask::Kind::kRankBelow : LaneMask::Kind::kRankPairs;
      m.first_kept = first_kept_;
      m.first_dropped = first_dropped_;
      m.flip = key_flip();
      return m;
    case Sparsifier::kRandom: {
      m.kind = LaneMask::Kind::kDraws;
      m.rng = &rng_;
      const auto keep = static_cast<float>(args_.density);
      m.last_kept = CounterRng::last_kept_bits(keep);
      m.keep_scale = args_.rescale && args_.rescale_by_probability ? 1.0f / keep : 1.0f;
      return m;
    }
    case Sparsifier::kDellaMagprune:
      break;
  }
  return std::nullopt;
}

void sparsify(Sparsifier method, std::span<float> delta, const SparsifyArgs& args, Scratch* scratch) {
  Scratch owned;
  Scratch& s = scratch ? *scratch : owned;
  TaskVectorSparsifier sparsifier(method, args, delta.size());
  if (!sparsifier.selection_ranks().empty()) {
    const std::span<std::uint32_t> keys = s.keys(delta.size(), 0);
    for (std::size_t j = 0; j < delta.size(); ++j) keys[j] = sparsifier.selection_key(delta[j]);
    std::vector<std::uint64_t> pairs;
    for (std::uint64_t rank : sparsifier.selection_ranks())
      pairs.push_back(select_rank(keys, static_cast<std::size_t>(rank)));
    sparsifier.set_selected(pairs);
  }
  if (sparsifier.needs_l1_norms()) {
    sparsifier.mask_in_l1_pass(delta, 0, s);
    sparsifier.finish_l1_norms();
  } else {
    sparsifier.mask(delta, 0, s);
  }
  sparsifier.rescale(delta);
}

}  // namespace weld
