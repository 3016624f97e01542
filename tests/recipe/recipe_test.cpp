#include <gtest/gtest.h>

#include "support/error_message.h"
#include "recipe/recipe.h"
#include "recipe/recipe_test_util.h"

namespace weld {
namespace {

std::string error_of(const std::string& yaml) {
  return test::error_message([&] { test::parse_merge_yml(yaml); });
}

TEST(Recipe, ModelsFormIsOneSliceAndAddsTheBase) {
  const Recipe r = test::parse_merge_yml(
      "merge_method: task_arithmetic\n"
      "base_model: base\n"
      "models:\n"
      "  - model: a\n"
      "    parameters: {weight: 0.5}\n"
      "  - model: b\n"
      "    parameters: {weight: [0, 1]}\n"
      "dtype: bfloat16\n");
  EXPECT_EQ(r.method->name, "task_arithmetic");
  EXPECT_FALSE(r.uses_slices);
  ASSERT_EQ(r.slices.size(), 1u);
  ASSERT_EQ(r.slices[0].sources.size(), 3u);
  EXPECT_EQ(r.slices[0].sources[2].model, "base");
  EXPECT_TRUE(r.slices[0].sources[2].params.empty());
  EXPECT_EQ(r.dtype, DType::kBF16);
  EXPECT_FALSE(r.out_dtype);
}

TEST(Recipe, BaseListedAmongModelsIsNotAddedTwice) {
  const Recipe r = test::parse_merge_yml("merge_method: linear\nbase_model: a\nmodels:\n  - model: a\n    parameters: {weight: 1}\n");
  EXPECT_EQ(r.slices[0].sources.size(), 1u);
}

TEST(Recipe, PassthroughIgnoresTheBase) {
  const Recipe r = test::parse_merge_yml("merge_method: passthrough\nbase_model: b\nmodels:\n  - model: a\n");
  EXPECT_EQ(r.slices[0].sources.size(), 1u);
}

TEST(Recipe, SlicesKeepTheirOrderAndRanges) {
  const Recipe r = test::parse_merge_yml(
      "merge_method: passthrough\n"
      "slices:\n"
      "  - sources: [{model: a, layer_range: [0, 2]}]\n"
      "  - sources: [{model: b, layer_range: [1, 4]}]\n"
      "out_dtype: torch.float32\n");
  ASSERT_EQ(r.slices.size(), 2u);
  EXPECT_TRUE(r.uses_slices);
  EXPECT_EQ(r.slices[1].sources[0].layer_range->begin, 1u);
  EXPECT_EQ(r.slices[1].sources[0].layer_range->size(), 3u);
  EXPECT_EQ(r.out_dtype, DType::kF32);
}

TEST(Recipe, UnknownMethodPointsAtTheLine) {
  try {
    test::parse_merge_yml("models:\n  - model: a\nmerge_method: lienar\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "merge.yml:3: unknown merge method 'lienar' (did you mean 'linear'?)");
    EXPECT_EQ(e.detail(), "  merge_method: lienar\n                ^ near here");
  }
}

TEST(Recipe, YamlSyntaxErrorNamesTheLine) {
  EXPECT_EQ(error_of("merge_method: linear\nmodels:\n  - model: [a\n"),
            "merge.yml:4: YAML syntax error: end of sequence flow not found");
}

TEST(Recipe, Errors) {
  EXPECT_EQ(error_of("models: [{model: a}]\n"), "merge.yml: missing 'merge_method'");
  EXPECT_EQ(error_of("merge_method: linear\nmodels:\n  - model: a\n    parameters: {wieght: 1}\n"),
            "merge.yml:4: unknown parameter 'wieght' for linear (did you mean 'weight'?)");
  EXPECT_EQ(error_of("merge_method: linear\nmodels: [{model: a, parameters: {normalize: true}}]\n"),
            "merge.yml:2: 'normalize' is a global parameter of linear: set it in the top-level or "
            "slice 'parameters', not per model");
  EXPECT_EQ(error_of("merge_method: linear\nmodel: [{model: a}]\n"),
            "merge.yml:2: unknown key 'model' in the config (did you mean 'models'?)");
  EXPECT_EQ(error_of("merge_method: linear\nmodules: {}\n"), "merge.yml:2: 'modules' is not supported yet");
  EXPECT_EQ(error_of("merge_method: linear\nmodels: [{model: a}]\nslices: []\n"),
            "merge.yml:3: give either 'models' or 'slices', not both");
  EXPECT_EQ(error_of("merge_method: linear\n"), "merge.yml: no models to merge: give 'models' or 'slices'");
  EXPECT_EQ(error_of("merge_method: linear\nmodels: [{model: a}]\ndtype: float8\n"),
            "merge.yml:3: dtype must be float32, float16 or bfloat16, got 'float8'");
  EXPECT_EQ(error_of("merge_method: passthrough\nslices:\n  - sources: [{model: a, layer_range: [2, 2]}]\n"),
            "merge.yml:3: layer_range [2, 2] is empty");
  EXPECT_EQ(error_of("merge_method: passthrough\nslices:\n  - sources: [{model: a}]\n"),
            "merge.yml:3: missing 'layer_range'");
  EXPECT_EQ(error_of("merge_method: linear\nslices:\n  - sources:\n    - {model: a, layer_range: [0, 2]}\n"
                     "    - {model: b, layer_range: [0, 3]}\n"),
            "merge.yml:5: every source of a slice must have the same number of layers: 3 here, 2 in the first");
  EXPECT_EQ(error_of("- a\n- b\n"), "merge.yml:1: a config must be a YAML mapping");
  EXPECT_EQ(error_of("merge_method: linear\nmodels: [{model: a}]\ntokenizer_source: union\n"),
            "merge.yml:3: tokenizer_source: union is not supported yet (use base or a model directory)");
}

}  // namespace
}  // namespace weld
