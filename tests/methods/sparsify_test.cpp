#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>
#include <thread>

#include "methods/scratch.h"
#include "methods/sparsify.h"
#include "tensor/convert.h"
#include "tensor/lane_sum.h"
#include "tensor/lanes.h"
#include "tensor/select.h"
#include "util/error.h"

namespace weld {
namespace {

using testing::ElementsAre;

SparsifyArgs args(double density, double gamma = 0.0, double epsilon = 0.0) {
  return {.density = density, .gamma = gamma, .epsilon = epsilon, .rescale = false,
          .rescale_by_probability = false, .row_length = 0, .seed = 42, .key = "t#1"};
}

std::vector<float> sparsified(Sparsifier s, std::vector<float> d, const SparsifyArgs& a) {
  sparsify(s, d, a);
  return d;
}

TEST(Sparsify, MagnitudeKeepsTheLargestWithTiesToTheLowerIndex) {
  // k = int(0.4 * 5) = 2: |-0.5| first, then the tie 0.3 / -0.3 goes to index 2.
  EXPECT_THAT(sparsified(Sparsifier::kMagnitude, {0.1f, -0.5f, 0.3f, -0.3f, 0.0f}, args(0.4)),
              ElementsAre(0.0f, -0.5f, 0.3f, 0.0f, 0.0f));
}

TEST(Sparsify, MagnitudeKeepingNothingIsAnError) {
  std::vector<float> d = {1, 2, 3, 4, 5};
  try {
    sparsify(Sparsifier::kMagnitude, d, args(0.1));
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "density 0.1 keeps no element of 5 (int(density * n) = 0)");
  }
}

TEST(Sparsify, DensityOneChangesNothing) {
  const std::vector<float> d = {0.1f, -0.5f, 0.3f};
  for (Sparsifier s : {Sparsifier::kMagnitude, Sparsifier::kRandom, Sparsifier::kMagnitudeOutliers,
                       Sparsifier::kDellaMagprune})
    EXPECT_EQ(sparsified(s, d, args(1.0, 0.3, 0.1)), d) << sparsifier_name(s);
}

TEST(Sparsify, BreadcrumbsDropsTheTopAndBottomByHand) {
  const std::vector<float> d = {1, -2, 3, -4, 5, -6, 7, -8, 9, -10};
  // n_top = int(0.1 * 10) = 1, n_bot = 10 - 5 - 1 = 4: ranks [4, 9) survive.
  EXPECT_THAT(sparsified(Sparsifier::kMagnitudeOutliers, d, args(0.5, 0.1)),
              ElementsAre(0, 0, 0, 0, 5, -6, 7, -8, 9, 0));
  // n_top = 0 (weld: keeps ranks [5, 10) where mergekit would drop everything).
  EXPECT_THAT(sparsified(Sparsifier::kMagnitudeOutliers, d, args(0.5, 0.0)),
              ElementsAre(0, 0, 0, 0, 0, -6, 7, -8, 9, -10));
  // n_top = 6, n_bot = -1: n_top becomes 5, n_bot 0, so ranks [0, 5) survive.
  EXPECT_THAT(sparsified(Sparsifier::kMagnitudeOutliers, d, args(0.5, 0.6)),
              ElementsAre(1, -2, 3, -4, 5, 0, 0, 0, 0, 0));
}

TEST(Sparsify, RescaleKeepsTheL1Norm) {
  std::vector<float> d(1000);
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = std::sin(static_cast<float>(i));
  SparsifyArgs a = args(0.3);
  a.rescale = true;
  const std::vector<float> out = sparsified(Sparsifier::kRandom, d, a);
  double l1_in = 0, l1_out = 0;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < d.size(); ++i) {
    l1_in += std::abs(d[i]);
    l1_out += std::abs(out[i]);
    kept += out[i] != 0.0f;
  }
  EXPECT_NEAR(l1_out, l1_in, 1e-3 * l1_in);
  EXPECT_NEAR(static_cast<double>(kept), 300.0, 50.0);
}

TEST(Sparsify, PaperRescaleDividesByTheKeepProbability) {
  SparsifyArgs a = args(0.25);
  a.rescale = true;
  a.rescale_by_probability = true;
  const std::vector<float> out = sparsified(Sparsifier::kRandom, std::vector<float>(64, 1.0f), a);
  for (float v : out) EXPECT_TRUE(v == 0.0f || v == 4.0f) << v;
}

TEST(Sparsify, RandomDrawsDependOnSeedAndKeyOnly) {
  const std::vector<float> d(256, 1.0f);
  SparsifyArgs a = args(0.5);
  const std::vector<float> first = sparsified(Sparsifier::kRandom, d, a);
  EXPECT_EQ(sparsified(Sparsifier::kRandom, d, a), first);
  a.seed = 43;
  EXPECT_NE(sparsified(Sparsifier::kRandom, d, a), first);
  a.seed = 42;
  a.key = "t#2";
  EXPECT_NE(sparsified(Sparsifier::kRandom, d, a), first);
}

// Keep rates follow p = density - epsilon + 2 epsilon rank/(n - 1) within each row.
TEST(Sparsify, DellaKeepProbabilityRisesWithMagnitudeRank) {
  const std::size_t draws = 4000;
  std::vector<double> kept(3, 0.0);
  for (std::size_t seed = 0; seed < draws; ++seed) {
    SparsifyArgs a = args(0.5, 0.0, 0.2);
    a.seed = seed;
    a.row_length = 3;
    const std::vector<float> out = sparsified(Sparsifier::kDellaMagprune, {3.0f, -1.0f, 2.0f}, a);
    for (std::size_t j = 0; j < 3; ++j) kept[j] += out[j] != 0.0f;
  }
  EXPECT_NEAR(kept[1] / draws, 0.3, 0.03);  // smallest |d|
  EXPECT_NEAR(kept[2] / draws, 0.5, 0.03);
  EXPECT_NEAR(kept[0] / draws, 0.7, 0.03);  // largest |d|
}

TEST(Sparsify, DellaRowOfOneKeepsWithProbabilityDensity) {
  double kept = 0;
  for (std::uint64_t seed = 0; seed < 4000; ++seed) {
    SparsifyArgs a = args(0.4, 0.0, 0.2);
    a.seed = seed;
    a.row_length = 1;
    const std::vector<float> out = sparsified(Sparsifier::kDellaMagprune, {1.0f}, a);
    EXPECT_FALSE(std::isnan(out[0]));
    kept += out[0] != 0.0f;
  }
  EXPECT_NEAR(kept / 4000, 0.4, 0.03);
}

// out = mask(d) for d = elements [0, n) of a task vector, 16 at a time, as the fused merge pass
// applies it. REQUIRES: n a multiple of 16.
WELD_TARGET_LANES void apply_lane_mask(const LaneMask& mask, const float* d, std::size_t n, float* out) {
  for (std::size_t j = 0; j < n; j += kLaneWidth) {
    Lanes lanes;
    std::memcpy(&lanes, d + j, sizeof lanes);
    mask.apply(lanes, j);
    std::memcpy(out + j, &lanes, sizeof lanes);
  }
}

// A task vector of n elements as the merge sees it from bf16 inputs, some d exactly 0.
struct Bf16TaskVector {
  std::vector<std::byte> xs, bs;  // the inputs' bytes
  std::vector<float> x, b, d;     // their values, and d = x - b
};

Bf16TaskVector bf16_task_vector(std::size_t n) {
  Bf16TaskVector t{std::vector<std::byte>(2 * n), std::vector<std::byte>(2 * n), std::vector<float>(n),
                   std::vector<float>(n), std::vector<float>(n)};
  for (std::size_t j = 0; j < n; ++j) {
    t.b[j] = std::sin(0.37f * static_cast<float>(j));
    t.x[j] = j % 7 == 0 ? t.b[j] : t.b[j] + 0.01f * std::cos(1.3f * static_cast<float>(j));
  }
  from_f32(DType::kBF16, t.x.data(), t.xs.data(), n);
  from_f32(DType::kBF16, t.b.data(), t.bs.data(), n);
  to_f32(DType::kBF16, t.xs.data(), t.x.data(), n);
  to_f32(DType::kBF16, t.bs.data(), t.b.data(), n);
  for (std::size_t j = 0; j < n; ++j) t.d[j] = t.x[j] - t.b[j];
  return t;
}

// The first n elements of a tensor of n elements and of one too large to keep its mask's
// bits, with the same stream: their merge passes must give the same bytes, those of the
// small one's mask() and rescale(), keeping about the density.
void expect_same_merge(const TaskVectorSparsifier& small, const std::vector<float>& d,
                       const std::vector<float>& out_small, const std::vector<float>& out_large, double density) {
  std::vector<float> reference = d;
  Scratch scratch;
  small.mask(reference, 0, scratch);
  small.rescale(reference);
  std::size_t kept = 0;
  for (std::size_t j = 0; j < d.size(); ++j) {
    ASSERT_EQ(std::bit_cast<std::uint32_t>(out_large[j]), std::bit_cast<std::uint32_t>(out_small[j])) << j;
    ASSERT_EQ(std::bit_cast<std::uint32_t>(out_small[j]), std::bit_cast<std::uint32_t>(reference[j])) << j;
    kept += out_small[j] != 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(d.size()), density * 6 / 7, 0.05);  // d = 0 in 1/7
}

SparsifyArgs rescaled_args(std::size_t row_length) {
  SparsifyArgs a = args(0.3, 0.0, 0.1);
  a.rescale = true;
  a.row_length = row_length;
  return a;
}

constexpr std::size_t kRowLength = 64;

// A tensor too large to keep its random mask's bits leaves the merge pass to draw again (and
// DELLA's to rank its rows again): the same sums, and the same elements kept and rescaled, as
// with the bits, after the L1 pass on tiles or on the fused path.
TEST(Sparsify, RandomMaskOfALargeTensorDrawsAgainToTheSameValues) {
  constexpr std::size_t n = 4096;
  const Bf16TaskVector t = bf16_task_vector(n);
  const SparsifyArgs a = rescaled_args(kRowLength);
  for (const Sparsifier method : {Sparsifier::kRandom, Sparsifier::kDellaMagprune})
    for (const bool fused : {false, true}) {
      if (fused && !lanes_are_fused()) continue;  // no fused path on this machine
      SCOPED_TRACE(testing::Message() << sparsifier_name(method) << (fused ? " fused" : " on tiles"));
      TaskVectorSparsifier small(method, a, n);
      TaskVectorSparsifier large(method, a, TaskVectorSparsifier::kMaxRandomBitsElements + n);
      std::vector<float> out_small(n), out_large(n);
      for (auto [s, out] : {std::pair{&small, &out_small}, std::pair{&large, &out_large}}) {
        Scratch scratch;
        if (fused) s->add_l1_norms_lanes(t.xs.data(), t.bs.data(), DType::kBF16, 0, n, scratch);
        else s->add_l1_norms(t.x.data(), t.b.data(), 0, n, scratch);
        const TaskVectorSparsifier::L1Norms norms = s->finish_l1_norms();
        ASSERT_GT(norms.before, norms.after);
        const std::optional<LaneMask> mask = s->lane_mask();
        // DELLA without bits ranks rows on tiles, which the fused merge leaves to the tile path.
        const bool della_redraws = method == Sparsifier::kDellaMagprune && s == &large;
        ASSERT_EQ(mask.has_value(), !della_redraws);
        EXPECT_EQ(s->needs_whole_rows(), della_redraws);
        if (mask) {
          EXPECT_EQ(mask->kind, s == &small ? LaneMask::Kind::kBits : LaneMask::Kind::kDraws);
        }
        if (fused && mask) apply_lane_mask(*mask, t.d.data(), n, out->data());
        else s->weighted_delta(t.x.data(), t.b.data(), 0, n, 1.0f, out->data(), Into::kStore, scratch);
      }
      expect_same_merge(small, t.d, out_small, out_large, a.density);
    }
}

// The L1 pass's segments may be passed in any order, and two at once (as workers share a
// large tensor's pass): the norms and the mask are the whole path's, to the bit, and the
// norms are the segments' own sums added in order.
TEST(Sparsify, L1SegmentsPassedInAnyOrderOnTwoThreadsGiveTheWholePathsValues) {
  for (const Sparsifier method : {Sparsifier::kRandom, Sparsifier::kDellaMagprune, Sparsifier::kMagnitude}) {
    SCOPED_TRACE(sparsifier_name(method));
    const SparsifyArgs a = rescaled_args(kRowLength);
    const std::uint64_t segment = TaskVectorSparsifier(method, a, 1000).l1_segment();
    ASSERT_EQ(segment % kRowLength, 0u);
    const std::size_t n = 2 * segment + segment / 2;
    const Bf16TaskVector t = bf16_task_vector(n);

    std::vector<float> whole = t.d;
    sparsify(method, whole, a);

    TaskVectorSparsifier streamed(method, a, n);
    if (!streamed.selection_ranks().empty()) {  // magnitude: the threshold, from the whole path's keys
      std::vector<std::uint32_t> keys(n);
      for (std::size_t j = 0; j < n; ++j) keys[j] = streamed.selection_key(t.d[j]);
      streamed.set_selected(std::vector{select_rank(keys, static_cast<std::size_t>(streamed.selection_ranks()[0]))});
    }
    const auto pass = [&](std::uint64_t first) {
      Scratch scratch;
      const std::size_t m = static_cast<std::size_t>(std::min<std::uint64_t>(segment, n - first));
      streamed.add_l1_norms(t.x.data() + first, t.b.data() + first, first, m, scratch);
    };
    std::thread last([&] { pass(2 * segment); });
    pass(segment);
    pass(0);
    last.join();
    const TaskVectorSparsifier::L1Norms norms = streamed.finish_l1_norms();
    std::vector<float> out(n);
    Scratch scratch;
    streamed.weighted_delta(t.x.data(), t.b.data(), 0, n, 1.0f, out.data(), Into::kStore, scratch);
    for (std::size_t j = 0; j < n; ++j)
      ASSERT_EQ(std::bit_cast<std::uint32_t>(out[j]), std::bit_cast<std::uint32_t>(whole[j])) << j;

    double before = 0.0;  // by segments, each in LaneSum's lanes
    for (std::uint64_t first = 0; first < n; first += segment) {
      LaneSum sum;
      add_l1_norm(std::span(t.d).subspan(first, std::min<std::uint64_t>(segment, n - first)), sum);
      before += sum.value();
    }
    EXPECT_EQ(norms.before, before);
  }
}

}  // namespace
}  // namespace weld
