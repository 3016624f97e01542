#include "recipe/parameters.h"

#include <limits>
#include <optional>

#include "util/error.h"

namespace weld {
namespace {

constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();

std::optional<double> first_set(std::initializer_list<const ParamMap*> levels,
                                std::string_view name, std::string_view tensor, double t) {
  for (const ParamMap* level : levels) {
    const auto it = level->find(std::string(name));
    if (it == level->end()) continue;
    if (std::optional<double> v = it->second.evaluate(tensor, t)) return v;
  }
  return std::nullopt;
}

}  // namespace

double layer_position(std::size_t index, std::size_t n_layers) {
  if (n_layers <= 1) return 1.0;
  return static_cast<double>(index) / static_cast<double>(n_layers - 1);
}

std::vector<double> resolve_global_params(const Recipe& recipe, const SliceSpec& slice,
                                          std::string_view output_tensor, double t) {
  const MethodDescriptor& method = *recipe.method;
  std::vector<double> values(method.params.size(), kUnset);
  for (std::size_t i = 0; i < method.params.size(); ++i) {
    const ParamDef& def = method.params[i];
    if (def.scope != ParamScope::kGlobal) continue;
    const std::optional<double> v = first_set({&slice.params, &recipe.params}, def.name, output_tensor, t);
    if (!v && def.required)
      fail("{} needs parameter '{}' (tensor '{}')", method.name, def.name, output_tensor);
    values[i] = v.value_or(def.default_value);
  }
  return values;
}

std::vector<double> resolve_model_params(const Recipe& recipe, const SliceSpec& slice,
                                         const SourceSpec& source, std::string_view input_tensor,
                                         double t, bool is_base) {
  const MethodDescriptor& method = *recipe.method;
  std::vector<double> values(method.params.size(), kUnset);
  for (std::size_t i = 0; i < method.params.size(); ++i) {
    const ParamDef& def = method.params[i];
    if (def.scope != ParamScope::kPerModel || def.kind == ParamKind::kFile) continue;  // files: the plan
    const std::optional<double> v =
        first_set({&source.params, &slice.params, &recipe.params}, def.name, input_tensor, t);
    if (v) {
      values[i] = *v;
    } else if (!def.required) {
      values[i] = def.default_value;
    } else if (!is_base) {
      fail("{} needs parameter '{}' for model '{}' (tensor '{}')", method.name, def.name,
           source.model, input_tensor);
    }
  }
  return values;
}

}  // namespace weld
