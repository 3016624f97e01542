#include "recipe/recipe.h"

#include <algorithm>
#include <array>

#include "methods/registry.h"
#include "util/edit_distance.h"

namespace weld {
namespace {

constexpr std::array<std::string_view, 9> kTopLevelKeys = {
    "merge_method", "models", "slices", "base_model", "parameters",
    "dtype", "out_dtype", "tokenizer_source", "name"};

// Keys mergekit has that weld does not implement yet: refused by name rather than ignored.
constexpr std::array<std::string_view, 4> kUnsupportedKeys = {"modules", "tokenizer",
                                                             "chat_template", "merge_method_sequence"};

void check_keys(const YamlSource& source, const YAML::Node& map,
                std::span<const std::string_view> allowed, std::string_view where) {
  for (const auto& entry : map) {
    const std::string key = entry.first.as<std::string>();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    if (std::find(kUnsupportedKeys.begin(), kUnsupportedKeys.end(), key) != kUnsupportedKeys.end())
      throw source.error_at(entry.first.Mark(), fmt::format("'{}' is not supported yet", key));
    throw source.error_at(entry.first.Mark(), fmt::format("unknown key '{}' in {}{}", key, where,
                                                          did_you_mean(key, allowed)));
  }
}

std::string parse_model_name(const YamlSource& source, const YAML::Node& node) {
  if (!node || !node.IsScalar() || node.Scalar().empty())
    throw source.error_at(node ? node.Mark() : YAML::Mark::null_mark(), "expected a model directory");
  return node.Scalar();
}

std::optional<DType> parse_dtype_key(const YamlSource& source, const YAML::Node& root,
                                     const char* key) {
  const YAML::Node node = root[key];
  if (!node || node.IsNull()) return std::nullopt;
  const std::optional<DType> dtype = node.IsScalar() ? parse_torch_dtype(node.Scalar()) : std::nullopt;
  if (!dtype)
    throw source.error_at(node.Mark(), fmt::format("{} must be float32, float16 or bfloat16, got '{}'",
                                                   key, node.IsScalar() ? node.Scalar() : "?"));
  return dtype;
}

LayerRange parse_layer_range(const YamlSource& source, const YAML::Node& node) {
  if (!node.IsSequence() || node.size() != 2)
    throw source.error_at(node.Mark(), "layer_range must be [start, end]");
  long long bounds[2];
  for (std::size_t i = 0; i < 2; ++i) {
    if (!YAML::convert<long long>::decode(node[i], bounds[i]) || bounds[i] < 0)
      throw source.error_at(node[i].Mark(), "layer_range bounds must be non-negative integers");
  }
  if (bounds[1] <= bounds[0])
    throw source.error_at(node.Mark(), fmt::format("layer_range [{}, {}] is empty",
                                                   bounds[0], bounds[1]));
  return {static_cast<std::size_t>(bounds[0]), static_cast<std::size_t>(bounds[1])};
}

SourceSpec parse_source(const YamlSource& source, const YAML::Node& node, bool in_slice) {
  if (!node.IsMap()) throw source.error_at(node.Mark(), "expected {model: ..., parameters: ...}");
  static constexpr std::array<std::string_view, 3> kKeys = {"model", "parameters", "layer_range"};
  check_keys(source, node, std::span(kKeys).first(in_slice ? 3 : 2), in_slice ? "a source" : "a model");
  SourceSpec spec;
  spec.mark = node.Mark();
  if (!node["model"]) throw source.error_at(node.Mark(), "missing 'model'");
  spec.model = parse_model_name(source, node["model"]);
  spec.params = parse_param_map(source, node["parameters"]);
  if (in_slice) {
    if (!node["layer_range"]) throw source.error_at(node.Mark(), "missing 'layer_range'");
    spec.layer_range = parse_layer_range(source, node["layer_range"]);
  }
  return spec;
}

SliceSpec parse_slice(const YamlSource& source, const YAML::Node& node) {
  static constexpr std::array<std::string_view, 3> kKeys = {"sources", "base_model", "parameters"};
  if (!node.IsMap()) throw source.error_at(node.Mark(), "expected {sources: [...]}");
  check_keys(source, node, kKeys, "a slice");
  SliceSpec slice;
  slice.mark = node.Mark();
  const YAML::Node sources = node["sources"];
  if (!sources || !sources.IsSequence() || sources.size() == 0)
    throw source.error_at(node.Mark(), "a slice needs a non-empty 'sources' list");
  for (const YAML::Node& s : sources) slice.sources.push_back(parse_source(source, s, true));
  const std::size_t length = slice.sources[0].layer_range->size();
  for (const SourceSpec& s : slice.sources)
    if (s.layer_range->size() != length)
      throw source.error_at(s.mark, fmt::format("every source of a slice must have the same number "
                                                "of layers: {} here, {} in the first", s.layer_range->size(), length));
  if (node["base_model"]) slice.base_model = parse_model_name(source, node["base_model"]);
  slice.params = parse_param_map(source, node["parameters"]);
  return slice;
}

// Every parameter name must belong to the method; a global one set per model has no effect.
void check_param_names(const YamlSource& source, const MethodDescriptor& method,
                       const ParamMap& params, bool per_model_block) {
  std::vector<std::string_view> names;
  for (const ParamDef& p : method.params) names.push_back(p.name);
  for (const auto& [name, setting] : params) {
    const std::optional<std::size_t> index = find_param(method, name);
    if (!index)
      throw source.error_at(setting.mark, fmt::format("unknown parameter '{}' for {}{}", name,
                                                      method.name, did_you_mean(name, names)));
    const ParamDef& def = method.params[*index];
    if (per_model_block && def.scope == ParamScope::kGlobal)
      throw source.error_at(setting.mark,
                            fmt::format("'{}' is a global parameter of {}: set it in the top-level "
                                        "or slice 'parameters', not per model", name, method.name));
    if (def.kind == ParamKind::kNumber && setting.text)
      throw source.error_at(setting.value_mark, fmt::format("expected a number, got '{}'", *setting.text));
    if (def.kind == ParamKind::kFile && (!setting.text || !per_model_block))
      throw source.error_at(setting.value_mark,
                            fmt::format("'{}' of {} is a file path, given per model", name, method.name));
  }
}

void check_all_param_names(const YamlSource& source, const Recipe& recipe) {
  check_param_names(source, *recipe.method, recipe.params, false);
  for (const SliceSpec& slice : recipe.slices) {
    check_param_names(source, *recipe.method, slice.params, false);
    for (const SourceSpec& s : slice.sources)
      check_param_names(source, *recipe.method, s.params, true);
  }
}

const MethodDescriptor& parse_method(const YamlSource& source, const YAML::Node& root) {
  const YAML::Node node = root["merge_method"];
  if (!node) throw source.error_at(YAML::Mark::null_mark(), "missing 'merge_method'");
  if (!node.IsScalar()) throw source.error_at(node.Mark(), "merge_method must be a name");
  try {
    return find_method(node.Scalar());
  } catch (const Error& e) {
    throw source.error_at(node.Mark(), e.message());
  }
}

void parse_inputs(const YamlSource& source, const YAML::Node& root, Recipe& recipe) {
  const YAML::Node models = root["models"];
  const YAML::Node slices = root["slices"];
  if (models && slices)
    throw source.error_at(slices.Mark(), "give either 'models' or 'slices', not both");
  if (slices) {
    if (!slices.IsSequence() || slices.size() == 0)
      throw source.error_at(slices.Mark(), "'slices' must be a non-empty list");
    recipe.uses_slices = true;
    for (const YAML::Node& s : slices) recipe.slices.push_back(parse_slice(source, s));
    return;
  }
  SliceSpec slice;
  if (models) {
    if (!models.IsSequence()) throw source.error_at(models.Mark(), "'models' must be a list");
    slice.mark = models.Mark();
    for (const YAML::Node& m : models) slice.sources.push_back(parse_source(source, m, false));
  }
  // models: implies the base model is an input, added without parameters if not listed.
  if (recipe.base_model && recipe.method->base != BaseUse::kIgnored) {
    const bool listed = std::any_of(slice.sources.begin(), slice.sources.end(),
                                    [&](const SourceSpec& s) { return s.model == *recipe.base_model; });
    if (!listed) slice.sources.push_back({*recipe.base_model, std::nullopt, {}, recipe.base_model_mark});
  }
  if (slice.sources.empty())
    throw source.error_at(models ? models.Mark() : YAML::Mark::null_mark(), "no models to merge: give 'models' or 'slices'");
  recipe.slices.push_back(std::move(slice));
}

Recipe parse_document(const YamlSource& source) {
  const YAML::Node& root = source.root();
  if (!root.IsMap()) throw source.error_at(root.Mark(), "a config must be a YAML mapping");
  check_keys(source, root, kTopLevelKeys, "the config");

  Recipe recipe;
  recipe.path = source.name();
  recipe.text = source.text();
  recipe.method = &parse_method(source, root);
  if (root["base_model"]) {
    recipe.base_model = parse_model_name(source, root["base_model"]);
    recipe.base_model_mark = root["base_model"].Mark();
  }
  recipe.params = parse_param_map(source, root["parameters"]);
  recipe.dtype = parse_dtype_key(source, root, "dtype");
  recipe.out_dtype = parse_dtype_key(source, root, "out_dtype");
  if (const YAML::Node tok = root["tokenizer_source"]; tok && !tok.IsNull()) {
    if (!tok.IsScalar()) throw source.error_at(tok.Mark(), "tokenizer_source must be a string");
    if (tok.Scalar() == "union")
      throw source.error_at(tok.Mark(), "tokenizer_source: union is not supported yet "
                                        "(use base or a model directory)");
    recipe.tokenizer_source = tok.Scalar();
  }
  parse_inputs(source, root, recipe);
  check_all_param_names(source, recipe);
  return recipe;
}

}  // namespace

Recipe parse_recipe(const YamlSource& source) {
  try {
    return parse_document(source);
  } catch (const YAML::Exception& e) {
    // A node of an unexpected kind (a list where a name belongs, say) that no check above
    // anticipated: still the config's fault, so still a config error at its line.
    throw source.error_at(e.mark, e.msg);
  }
}

Recipe load_recipe(const std::string& path) { return parse_recipe(YamlSource::load_file(path)); }

}  // namespace weld
