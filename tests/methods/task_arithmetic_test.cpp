#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"
#include "util/error.h"

namespace weld::test {
namespace {

const MethodDescriptor& ta() { return find_method("task_arithmetic"); }

// base b = [1, 1, 1]; d1 = [1, -1, 0], d2 = [0, 2, 0]
const std::vector<std::vector<float>> kInputs = {{1, 1, 1}, {2, 0, 1}, {1, 3, 1}};

TEST(TaskArithmetic, WeightedTaskVectorsTimesLambdaByHand) {
  const MethodCall call = make_call(ta(), 3, 0, {{"weight", {kNaN, 0.5, 1}}}, {{"lambda", 2}});
  // sum w d = [0.5, 1.5, 0]; * 2 = [1, 3, 0]; + b
  EXPECT_THAT(run_tile(ta(), call, kInputs), testing::ElementsAre(2.0f, 4.0f, 1.0f));
}

TEST(TaskArithmetic, LanesMatchTilesBitForBit) {
  const MethodCall call = make_call(ta(), 4, 1, {{"weight", {0.5, kNaN, -1.25, 0.0}}}, {{"lambda", 0.9}, {"normalize", 1}});
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::size_t tile : {std::size_t{700}, std::size_t{33}})
      expect_lanes_match_tiles(ta(), call, lane_test_inputs(4, 700), dtype, tile);
}

// Two to four inputs have a kernel for each place of the base; five and six take the general one.
TEST(TaskArithmetic, LanesMatchTilesWhereverTheBaseIs) {
  for (std::size_t n_inputs = 1; n_inputs <= 6; ++n_inputs)
    for (std::size_t base = 0; base < n_inputs; ++base) {
      SCOPED_TRACE(testing::Message() << n_inputs << " inputs, base " << base);
      std::vector<double> weight(n_inputs, 0.75);
      weight[base] = kNaN;
      if (n_inputs > 1) weight[n_inputs - 1 - (base == n_inputs - 1)] = -1.25;
      const MethodCall call = make_call(ta(), n_inputs, base, {{"weight", weight}}, {{"lambda", 0.9}});
      for (const DType dtype : {DType::kBF16, DType::kF32})
        expect_lanes_match_tiles(ta(), call, lane_test_inputs(n_inputs, 640), dtype, 37);
    }
}

TEST(TaskArithmetic, NormalizeDividesByTheWeightSum) {
  const MethodCall call =
      make_call(ta(), 3, 0, {{"weight", {kNaN, 0.5, 1}}}, {{"lambda", 2}, {"normalize", 1}});
  // [0.5, 1.5, 0] / 1.5 * 2 + 1
  EXPECT_THAT(run_tile(ta(), call, kInputs),
              testing::ElementsAre(testing::FloatEq(1.0f + 2.0f / 3.0f), 3.0f, 1.0f));
}

TEST(TaskArithmetic, NearZeroWeightSumDividesByOne) {
  const MethodCall call = make_call(ta(), 3, 0, {{"weight", {kNaN, 1, -1}}}, {{"normalize", 1}});
  // d1 - d2 = [1, -3, 0]
  EXPECT_THAT(run_tile(ta(), call, kInputs), testing::ElementsAre(2.0f, -2.0f, 1.0f));
}

TEST(TaskArithmetic, NegativeWeightNegatesATask) {
  const MethodCall call = make_call(ta(), 2, 0, {{"weight", {kNaN, -1}}});
  EXPECT_THAT(run_tile(ta(), call, {{1, 1, 1}, {2, 0, 1}}), testing::ElementsAre(0.0f, 2.0f, 1.0f));
}

TEST(TaskArithmetic, BaseAloneIsTheBase) {
  const MethodCall call = make_call(ta(), 1, 0, {{"weight", {kNaN}}});
  EXPECT_THAT(run_tile(ta(), call, {{1.5f, -2.0f}}), testing::ElementsAre(1.5f, -2.0f));
}

}  // namespace
}  // namespace weld::test

namespace weld::test {
namespace {

const MethodDescriptor& method(std::string_view name) { return find_method(name); }

TEST(TiesFamily, TiesByHand) {
  // b = 0, d1 = [1, -2, 0.5], d2 = [-3, 1, 2]; density 1, weights 1, normalize (default).
  const MethodCall call = make_call(method("ties"), 3, 0, {{"weight", {kNaN, 1, 1}}});
  EXPECT_THAT(run_tile(method("ties"), call, {{0, 0, 0}, {1, -2, 0.5f}, {-3, 1, 2}}),
              testing::ElementsAre(-3.0f, -2.0f, 1.25f));
}

TEST(TiesFamily, TiesWithOneModelAtDensityOneIsTaskArithmetic) {
  const std::vector<std::vector<float>> inputs = {{0.5f, -1, 2, 0}, {1.5f, -3, 2, 7}};
  const MethodCall ties = make_call(method("ties"), 2, 0, {{"weight", {kNaN, 1}}});
  const MethodCall ta = make_call(method("task_arithmetic"), 2, 0, {{"weight", {kNaN, 1}}});
  EXPECT_EQ(run_tile(method("ties"), ties, inputs), run_tile(method("task_arithmetic"), ta, inputs));
}

TEST(TiesFamily, DareAtDensityOneIsTaskArithmetic) {
  const std::vector<std::vector<float>> inputs = {{1, 1, 1}, {2, 0, 1}, {1, 3, 1}};
  const MethodCall ta = make_call(method("task_arithmetic"), 3, 0, {{"weight", {kNaN, 0.5, 1}}});
  for (const char* name : {"dare_linear", "breadcrumbs", "della_linear"}) {
    const MethodCall call = make_call(method(name), 3, 0, {{"weight", {kNaN, 0.5, 1}}, {"density", {1, 1, 1}}});
    EXPECT_EQ(run_tile(method(name), call, inputs), run_tile(method("task_arithmetic"), ta, inputs)) << name;
  }
}

TEST(TiesFamily, MeanOfManyDareDrawsApproachesTaskArithmetic) {
  const std::vector<std::vector<float>> inputs = {{0, 0, 0, 0}, {1, -2, 0.5f, 4}};
  const MethodCall call = make_call(method("dare_linear"), 2, 0, {{"weight", {kNaN, 1}}, {"density", {1, 0.5}}},
                                    {{"rescale_by_probability", 1}});
  std::vector<double> mean(4, 0.0);
  const int draws = 4000;
  for (int seed = 0; seed < draws; ++seed) {
    const std::vector<float> out = run_tile(method("dare_linear"), call, inputs, {}, static_cast<std::uint64_t>(seed));
    for (std::size_t j = 0; j < 4; ++j) mean[j] += out[j] / draws;
  }
  EXPECT_NEAR(mean[0], 1.0, 0.05);
  EXPECT_NEAR(mean[1], -2.0, 0.1);
  EXPECT_NEAR(mean[2], 0.5, 0.03);
  EXPECT_NEAR(mean[3], 4.0, 0.2);
}

// Every row on the fused path gives merge_tile's bytes: masks from kept bits (L1 rescale),
// rank pairs (TIES, breadcrumbs), draws (no rescale, or the papers'), all and none (density 1
// and 0), of one kind or several, with and without sign consensus, in tiles that start inside a byte of the bits; on
// inputs with special values, and on finite ones (an infinity makes the L1 ratios NaN).
TEST(TiesFamily, LanesMatchTilesBitForBit) {
  struct Case {
    const char* method;
    std::vector<std::pair<std::string, double>> globals;
    std::vector<double> density = {0.4, kNaN, 0.6, 0.5};  // masks of one kind
  };
  const Case cases[] = {{"ties", {}},
                        {"ties", {{"rescale", 1}, {"normalize", 0}}},
                        {"dare_ties", {}},
                        {"dare_linear", {}},
                        {"dare_linear", {{"rescale", 0}}, {0.5, kNaN, 0.0, 0.3}},
                        {"dare_linear", {{"rescale_by_probability", 1}, {"normalize", 1}}},
                        {"breadcrumbs", {}},
                        {"breadcrumbs_ties", {{"normalize", 1}, {"lambda", 0.7}}},
                        {"della", {}},
                        {"della_linear", {{"lambda", 1.5}}, {0.5, kNaN, 0.3, 0.0}},
                        {"ties", {}, {0.4, kNaN, 0.6, 1.0}},  // masks of two kinds
                        {"dare_ties", {}, {0.4, kNaN, 0.6, 1.0}}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method);
    const MethodCall call = make_call(method(c.method), 4, 1,
                                      {{"weight", {0.5, kNaN, -1.25, 0.75}}, {"density", c.density}}, c.globals);
    for (const auto& inputs : {lane_test_inputs(4, 640), random_inputs(4, 640, 0.5)})
      for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
        for (const std::size_t tile : {std::size_t{640}, std::size_t{37}, std::size_t{16}})
          expect_lanes_match_tiles(method(c.method), call, inputs, dtype, tile, {10, 64});
  }
}

// Task vectors of five magnitudes, so that the selected rank falls inside a long run of equal
// keys: which of them survive goes by index, and the boundary lies inside a block of 16 with
// equal keys in the blocks before and after it.
TEST(TiesFamily, LanesMatchTilesWhereMagnitudesTieAtTheThreshold) {
  std::vector<std::vector<float>> inputs(3, std::vector<float>(640, 0.0f));
  for (std::size_t j = 0; j < 640; ++j) {
    inputs[1][j] = static_cast<float>(static_cast<int>(j * 7 % 5) - 2) * 0.25f;
    inputs[2][j] = static_cast<float>(static_cast<int>(j * 3 % 5) - 2) * 0.5f;
  }
  for (const char* name : {"ties", "breadcrumbs", "breadcrumbs_ties"})
    for (const double density : {0.3, 0.5, 0.7}) {
      SCOPED_TRACE(testing::Message() << name << ", density " << density);
      const MethodCall call =
          make_call(method(name), 3, 0, {{"weight", {kNaN, 0.5, 1.0}}, {"density", {kNaN, density, density}}});
      for (const DType dtype : {DType::kBF16, DType::kF32})
        for (const std::size_t tile : {std::size_t{640}, std::size_t{37}, std::size_t{16}})
          expect_lanes_match_tiles(method(name), call, inputs, dtype, tile);
    }
}

// The fused merges of one to three models have a kernel for each place of the base.
TEST(TiesFamily, LanesMatchTilesWhereverTheBaseIs) {
  for (const char* name : {"ties", "dare_linear"})
    for (std::size_t n_inputs = 2; n_inputs <= 5; ++n_inputs)
      for (std::size_t base = 0; base < n_inputs; ++base) {
        SCOPED_TRACE(testing::Message() << name << ", " << n_inputs << " inputs, base " << base);
        std::vector<double> weight(n_inputs, 0.75), density(n_inputs, 0.5);
        weight[base] = density[base] = kNaN;
        weight[n_inputs - 1 - (base == n_inputs - 1)] = -1.25;
        const MethodCall call = make_call(method(name), n_inputs, base, {{"weight", weight}, {"density", density}});
        for (const DType dtype : {DType::kBF16, DType::kF32})
          expect_lanes_match_tiles(method(name), call, random_inputs(n_inputs, 640, 0.5), dtype, 37, {10, 64});
      }
}

// The L1 passes from the inputs' bytes over tensors of several blocks: rows of 72 (4032 to a
// block of the fused pass) and rows longer than a block.
TEST(TiesFamily, FusedL1PassesOverManyBlocksMatchTiles) {
  for (const char* name : {"della", "della_linear", "dare_linear"}) {
    SCOPED_TRACE(name);
    const MethodCall call =
        make_call(method(name), 3, 0, {{"weight", {kNaN, 0.5, 0.75}}, {"density", {kNaN, 0.5, 0.7}}});
    for (const std::vector<std::uint64_t>& shape : {std::vector<std::uint64_t>{125, 72}, {2, 5000}}) {
      const std::vector<std::vector<float>> inputs = random_inputs(3, shape[0] * shape[1], 0.5);
      for (const DType dtype : {DType::kBF16, DType::kF32})
        expect_lanes_match_tiles(method(name), call, inputs, dtype, 640, shape);
    }
  }
}

TEST(TiesFamily, DellaRankingRowsInTheMergeHasNoFusedPath) {
  const MethodDescriptor& della = method("della");
  const MethodCall call = make_call(della, 2, 0, {{"weight", {kNaN, 1}}, {"density", {kNaN, 0.5}}}, {{"rescale", 0}});
  const std::vector<std::vector<float>> inputs = random_inputs(2, 64, 0.5);
  std::vector<const float*> ptrs = {inputs[0].data(), inputs[1].data()};
  Scratch scratch;
  const std::vector<std::uint64_t> shape = {4, 16};
  const std::unique_ptr<TensorStats> stats = della.prepare(call, VectorReader(ptrs, 64, shape, "t", 1, 64, scratch));
  const std::vector<std::byte> x = to_bytes(DType::kF32, inputs[0]), y = to_bytes(DType::kF32, inputs[1]);
  const std::byte* at[] = {x.data(), y.data()};
  std::vector<std::byte> out(x.size(), std::byte{0x5a});
  EXPECT_FALSE(della.merge_lanes(call, LaneTile{{at, out.data(), 64, DType::kF32}, 0, stats.get()}));
  EXPECT_EQ(out, std::vector<std::byte>(x.size(), std::byte{0x5a}));  // nothing written
}

TEST(TiesFamily, DellaRefusesEpsilonOutsideTheDensity) {
  const MethodCall call = make_call(method("della"), 2, 0, {{"weight", {kNaN, 1}}, {"density", {1, 0.9}}});
  try {
    method("della").validate(call);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "density 0.9 and epsilon 0.15 of input 2: DELLA needs density - epsilon > 0 "
                           "and density + epsilon < 1");
  }
}

TEST(TiesFamily, DefaultsFollowTheRows) {
  const auto default_of = [](std::string_view m, std::string_view p) {
    const MethodDescriptor& d = method(m);
    return d.params[*find_param(d, p)].default_value;
  };
  EXPECT_EQ(default_of("ties", "normalize"), 1.0);
  EXPECT_EQ(default_of("ties", "rescale"), 0.0);
  EXPECT_EQ(default_of("dare_ties", "normalize"), 0.0);
  EXPECT_EQ(default_of("dare_ties", "rescale"), 1.0);
  EXPECT_EQ(default_of("della", "normalize"), 1.0);
  EXPECT_EQ(default_of("della", "epsilon"), 0.15);
  EXPECT_EQ(default_of("breadcrumbs", "gamma"), 0.01);
  EXPECT_FALSE(find_param(method("ties"), "gamma"));
}

}  // namespace
}  // namespace weld::test
