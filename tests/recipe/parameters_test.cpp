#include <gtest/gtest.h>

#include "methods/registry.h"
#include "recipe/parameters.h"
#include "recipe/recipe_test_util.h"
#include "util/error.h"

namespace weld {
namespace {

constexpr std::size_t kWeight = 0, kNormalize = 1;  // linear's parameter order

TEST(LayerPosition, EvenlySpacedOverTheSlice) {
  EXPECT_DOUBLE_EQ(layer_position(0, 5), 0.0);
  EXPECT_DOUBLE_EQ(layer_position(2, 5), 0.5);
  EXPECT_DOUBLE_EQ(layer_position(4, 5), 1.0);
  EXPECT_DOUBLE_EQ(layer_position(0, 1), 1.0);
}

TEST(Parameters, SourceBeatsSliceBeatsTopLevelBeatsDefault) {
  const Recipe r = test::parse_merge_yml(
      "merge_method: linear\n"
      "parameters: {weight: 1, normalize: false}\n"
      "slices:\n"
      "  - parameters: {weight: 2}\n"
      "    sources:\n"
      "      - {model: a, layer_range: [0, 2], parameters: {weight: 3}}\n"
      "      - {model: b, layer_range: [0, 2]}\n");
  const SliceSpec& slice = r.slices[0];
  EXPECT_EQ(resolve_model_params(r, slice, slice.sources[0], "x", 0, false)[kWeight], 3.0);
  EXPECT_EQ(resolve_model_params(r, slice, slice.sources[1], "x", 0, false)[kWeight], 2.0);
  EXPECT_EQ(resolve_global_params(r, slice, "x", 0)[kNormalize], 0.0);
  const Recipe defaults = test::parse_merge_yml("merge_method: linear\nparameters: {weight: 1}\nmodels: [{model: a}]\n");
  EXPECT_EQ(resolve_model_params(defaults, defaults.slices[0], defaults.slices[0].sources[0], "x", 0, false)[kWeight], 1.0);
  EXPECT_EQ(resolve_global_params(defaults, defaults.slices[0], "x", 0)[kNormalize], 1.0);
}

TEST(Parameters, UnmatchedFilterFallsThroughToTheNextLevel) {
  const Recipe r = test::parse_merge_yml(
      "merge_method: linear\n"
      "parameters: {weight: 0.25}\n"
      "models:\n"
      "  - model: a\n"
      "    parameters: {weight: [{filter: mlp, value: [0, 1]}]}\n");
  const SourceSpec& a = r.slices[0].sources[0];
  EXPECT_EQ(resolve_model_params(r, r.slices[0], a, "model.layers.1.mlp.up_proj.weight", 0.5, false)[kWeight], 0.5);
  EXPECT_EQ(resolve_model_params(r, r.slices[0], a, "model.layers.1.self_attn.q_proj.weight", 0.5, false)[kWeight], 0.25);
}

TEST(Parameters, MissingRequiredIsAnErrorExceptForTheBase) {
  const Recipe r = test::parse_merge_yml("merge_method: linear\nmodels: [{model: a}]\n");
  const SourceSpec& a = r.slices[0].sources[0];
  EXPECT_TRUE(std::isnan(resolve_model_params(r, r.slices[0], a, "t", 0, true)[kWeight]));
  try {
    resolve_model_params(r, r.slices[0], a, "t", 0, false);
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "linear needs parameter 'weight' for model 'a' (tensor 't')");
  }
}

}  // namespace
}  // namespace weld
