#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "methods/method_test_util.h"

namespace weld::test {
namespace {

using testing::ElementsAre;
using testing::FloatEq;
using testing::FloatNear;

const MethodDescriptor& sce() { return find_method("sce"); }

std::vector<float> sce_merge(const std::vector<std::vector<float>>& inputs,
                             double select_topk = 1.0, std::size_t base = 0) {
  const MethodCall call = make_call(sce(), inputs.size(), base, {}, {{"select_topk", select_topk}});
  return run_tile(sce(), call, inputs);
}

TEST(Sce, DeclaresItsContract) {
  EXPECT_EQ(sce().base, BaseUse::kRequired);
  EXPECT_EQ(sce().min_inputs, 1u);
  const std::optional<std::size_t> topk = find_param(sce(), "select_topk");
  ASSERT_TRUE(topk.has_value());
  EXPECT_EQ(sce().params[*topk].scope, ParamScope::kGlobal);
  EXPECT_FALSE(sce().params[*topk].required);
  EXPECT_EQ(sce().params[*topk].default_value, 1.0);
  ASSERT_TRUE(find_param(sce(), "int8_mask").has_value());
  EXPECT_FALSE(find_param(sce(), "weight").has_value());
}

TEST(Sce, CalculatedWeightsAndErasedSignsByHand) {
  // b = 0, d1 = [1, -2, 0.5, 0], d2 = [-3, 1, 2, 0].
  // mean(d1^2) = 5.25 / 4 = 21/16, mean(d2^2) = 14 / 4 = 56/16 -> e = [3/11, 8/11].
  // Sums -2, -1, 2.5, 0 -> signs -, -, +, + (zero is +).
  // [0]: only d2 agrees -> -3.  [1]: only d1 -> -2.
  // [2]: both: (3/11 * 0.5 + 8/11 * 2) / 1 = 17.5/11.  [3]: nothing agrees -> 0 / 1e-6 = 0.
  EXPECT_THAT(sce_merge({{0, 0, 0, 0}, {1, -2, 0.5f, 0}, {-3, 1, 2, 0}}),
              ElementsAre(-3.0f, -2.0f, FloatEq(17.5f / 11), 0.0f));
}

TEST(Sce, SelectTopkKeepsTheHighestVarianceElements) {
  // b = 1, d1 = [1, 2, 3, 4], d2 = [1, 0, 6, -4]: population variances [0, 1, 2.25, 16],
  // 3 nonzero; select_topk 0.7 -> k = int(2.1) = 2 keeps [2] and [3].
  // d1 = [0, 0, 3, 4], d2 = [0, 0, 6, -4]: mean squares 25/4, 52/4 -> e = [25/77, 52/77].
  // [2]: sum 9, both agree: (25 * 3 + 52 * 6) / 77 = 387/77.  [3]: sum 0 -> +, d1 alone: 4.
  EXPECT_THAT(sce_merge({{1, 1, 1, 1}, {2, 3, 4, 5}, {2, 1, 7, -3}}, 0.7),
              ElementsAre(1.0f, 1.0f, FloatEq(1 + 387.0f / 77), 5.0f));
}

TEST(Sce, TopkTiesGoToTheLowerIndex) {
  // b = 0, d1 = [1, 2, 3], d2 = [1, 0, 1]: variances [0, 1, 1]; k = int(2 * 0.5) = 1 keeps [1].
  // Then d1 = [0, 2, 0], d2 = 0: e = [1, 0]; [1] = 2.
  EXPECT_THAT(sce_merge({{0, 0, 0}, {1, 2, 3}, {1, 0, 1}}, 0.5), ElementsAre(0.0f, 2.0f, 0.0f));
}

TEST(Sce, SelectionDropsElementsThatAllModelsChangeAlike) {
  // d1 = d2 = [1, 1]: variance 0 everywhere. Without selection the shared change is kept;
  // with any select_topk < 1, k = 0 and the base is returned.
  const std::vector<std::vector<float>> inputs = {{0.5f, 0.5f}, {1.5f, 1.5f}, {1.5f, 1.5f}};
  EXPECT_THAT(sce_merge(inputs, 1.0), ElementsAre(1.5f, 1.5f));
  EXPECT_THAT(sce_merge(inputs, 0.99), ElementsAre(0.5f, 0.5f));
}

TEST(Sce, ZeroSelectTopkKeepsTheBase) {
  EXPECT_THAT(sce_merge({{1, 2}, {3, -4}, {0, 5}}, 0.0), ElementsAre(1.0f, 2.0f));
}

TEST(Sce, TinyTaskVectorsGetUniformWeights) {
  // d1 = [1e-4, 1e-4], d2 = [3e-4, 3e-4]: mean squares sum to 1e-7 < 1e-6, so e = [0.5, 0.5]
  // and the result is the plain mean 2e-4 (energy weights would give 2.8e-4).
  const std::vector<float> out = sce_merge({{0, 0}, {1e-4f, 1e-4f}, {3e-4f, 3e-4f}});
  EXPECT_THAT(out, ElementsAre(FloatNear(2e-4f, 1e-9f), FloatNear(2e-4f, 1e-9f)));
}

TEST(Sce, OneFineTuneIsTheFineTune) {
  EXPECT_THAT(sce_merge({{1, 2, 3}, {4, -5, 3}}), ElementsAre(4.0f, -5.0f, 3.0f));
}

TEST(Sce, BaseAloneIsTheBase) { EXPECT_THAT(sce_merge({{1.5f, -2}}), ElementsAre(1.5f, -2.0f)); }

TEST(Sce, TheBaseMayBeAnyInput) {
  EXPECT_EQ(sce_merge({{2, 3, 4, 5}, {1, 1, 1, 1}, {2, 1, 7, -3}}, 0.7, 1),
            sce_merge({{1, 1, 1, 1}, {2, 3, 4, 5}, {2, 1, 7, -3}}, 0.7, 0));
}

TEST(Sce, TheFusedPathMatchesTilesToTheBit) {
  // The calculate pass and the erase on the inputs' bytes; special values (zeros of both
  // signs, infinities, NaN) with one fine-tune and with several, finite values too, and the
  // base in every place (each has a kernel of its own).
  for (const DType dtype : {DType::kBF16, DType::kF16, DType::kF32})
    for (const std::size_t n_inputs : {2u, 3u, 4u, 5u})
      for (std::size_t base = 0; base < n_inputs; ++base) {
        SCOPED_TRACE(testing::Message() << n_inputs << " inputs, base " << base);
        const MethodCall call = make_call(sce(), n_inputs, base, {});
        for (const std::size_t tile : {640u, 37u, 16u}) {
          expect_lanes_match_tiles(sce(), call, random_inputs(n_inputs, 5000, 0.5), dtype, tile);
          expect_lanes_match_tiles(sce(), call, lane_test_inputs(n_inputs, 700), dtype, tile);
        }
      }
}

// merge_lanes declines the call, and writes nothing.
void expect_no_fused_path(const MethodCall& call) {
  const std::vector<std::vector<float>> inputs = random_inputs(call.n_inputs, 64, 0.5);
  std::vector<const float*> ptrs;
  std::vector<std::vector<std::byte>> bytes;
  std::vector<const std::byte*> at;
  for (const auto& x : inputs) {
    ptrs.push_back(x.data());
    at.push_back(bytes.emplace_back(to_bytes(DType::kF32, x)).data());
  }
  Scratch scratch;
  const std::vector<std::uint64_t> shape = {64};
  const std::unique_ptr<TensorStats> stats = sce().prepare(call, VectorReader(ptrs, 64, shape, "t", 1, 64, scratch));
  std::vector<std::byte> out(bytes[0].size(), std::byte{0x5a});
  EXPECT_FALSE(sce().merge_lanes(call, LaneTile{{at, out.data(), 64, DType::kF32}, 0, stats.get()}));
  EXPECT_EQ(out, std::vector<std::byte>(bytes[0].size(), std::byte{0x5a}));
}

TEST(Sce, SelectionAndMoreThanFourModelsHaveNoFusedPath) {
  expect_no_fused_path(make_call(sce(), 3, 0, {}, {{"select_topk", 0.5}}));
  expect_no_fused_path(make_call(sce(), 6, 0, {}));
}

}  // namespace
}  // namespace weld::test
