// A merge recipe: the typed form of a mergekit-style YAML config.
//
// `models:` is normalised to one slice whose sources cover all layers of each model (no
// layer_range); `slices:` keeps its slices in order. Names of methods and parameters are
// checked against the method table here, so every later error is about the models.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "io/dtype.h"
#include "methods/method.h"
#include "recipe/param_setting.h"
#include "recipe/yaml_source.h"

namespace weld {

struct LayerRange {
  std::size_t begin;  // first layer
  std::size_t end;    // one past the last
  std::size_t size() const { return end - begin; }
};

struct SourceSpec {
  std::string model;                      // a local directory
  std::optional<LayerRange> layer_range;  // absent: all layers (the `models:` form)
  ParamMap params;
  YAML::Mark mark;
};

struct SliceSpec {
  std::vector<SourceSpec> sources;
  std::optional<std::string> base_model;  // overrides the recipe's
  ParamMap params;
  YAML::Mark mark;
};

struct Recipe {
  std::string path;
  std::string text;  // the config as given, for the model card
  const MethodDescriptor* method = nullptr;
  bool uses_slices = false;
  std::vector<SliceSpec> slices;
  std::optional<std::string> base_model;
  YAML::Mark base_model_mark;
  ParamMap params;
  std::optional<DType> dtype;      // inputs are rounded to this on load
  std::optional<DType> out_dtype;  // written; default dtype, else the input's
  std::optional<std::string> tokenizer_source;

  // The slice's base model, else the recipe's.
  const std::optional<std::string>& base_model_of(const SliceSpec& slice) const {
    return slice.base_model ? slice.base_model : base_model;
  }
};

// Parses and checks a config. Errors name the file and line.
Recipe parse_recipe(const YamlSource& source);
Recipe load_recipe(const std::string& path);

}  // namespace weld
