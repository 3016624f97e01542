#include <gtest/gtest.h>

#include "recipe/param_setting.h"
#include "recipe/yaml_source.h"

namespace weld {
namespace {

ParamSetting setting_of(const std::string& yaml) {
  const YamlSource source = YamlSource::parse("p: " + yaml, "test.yml");
  return parse_param_map(source, source.root()).at("p");
}

TEST(ParamValue, GradientInterpolatesBetweenNeighbours) {
  const ParamValue v{{0.0, 1.0, 3.0}};
  EXPECT_DOUBLE_EQ(v.at(0.0), 0.0);
  EXPECT_DOUBLE_EQ(v.at(0.25), 0.5);   // s = 0.5: halfway 0 -> 1
  EXPECT_DOUBLE_EQ(v.at(0.5), 1.0);
  EXPECT_DOUBLE_EQ(v.at(0.75), 2.0);   // s = 1.5: halfway 1 -> 3
  EXPECT_DOUBLE_EQ(v.at(1.0), 3.0);
}

TEST(ParamValue, ScalarIgnoresPosition) {
  EXPECT_DOUBLE_EQ(ParamValue{{0.3}}.at(0.0), 0.3);
  EXPECT_DOUBLE_EQ(ParamValue{{0.3}}.at(1.0), 0.3);
}

TEST(ParamSetting, BooleansReadAsOneAndZero) {
  EXPECT_EQ(setting_of("true").evaluate("x", 0), 1.0);
  EXPECT_EQ(setting_of("false").evaluate("x", 0), 0.0);
}

TEST(ParamSetting, FirstMatchingFilterWinsBySubstring) {
  const ParamSetting s = setting_of("[{filter: mlp, value: 0.3}, {filter: self_attn, value: [0, 1]}, {value: 0.9}]");
  EXPECT_EQ(s.evaluate("model.layers.3.mlp.up_proj.weight", 0.5), 0.3);
  EXPECT_EQ(s.evaluate("model.layers.3.self_attn.q_proj.weight", 0.5), 0.5);
  EXPECT_EQ(s.evaluate("model.norm.weight", 0.5), 0.9);
}

TEST(ParamSetting, FilterIsNotARegexOrGlob) {
  const ParamSetting s = setting_of("[{filter: 'mlp.*', value: 1}]");
  EXPECT_FALSE(s.evaluate("model.layers.0.mlp.up_proj.weight", 0));
  EXPECT_EQ(s.evaluate("a.mlp.*b", 0), 1.0);
}

TEST(ParamSetting, StarMatchesEverything) {
  EXPECT_EQ(setting_of("[{filter: '*', value: 2}]").evaluate("anything", 0), 2.0);
}

TEST(ParamSetting, NoMatchFallsThrough) {
  EXPECT_FALSE(setting_of("[{filter: mlp, value: 1}]").evaluate("model.norm.weight", 0));
}

TEST(ParamSetting, NonNumberScalarIsKeptAsTextForTheRecipeToCheck) {
  const ParamSetting s = setting_of("dir/fisher.safetensors");
  EXPECT_EQ(s.text, "dir/fisher.safetensors");
  EXPECT_FALSE(s.evaluate("w", 0.0));
  EXPECT_FALSE(setting_of("0.5").text);
}

TEST(ParamSetting, NonNumberInAGradientIsAnErrorAtItsLine) {
  try {
    setting_of("[0, abc]");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "test.yml:1: expected a number, got 'abc'");
  }
}

}  // namespace
}  // namespace weld
