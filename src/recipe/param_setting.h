// One parameter's setting in a config, in any of the three forms mergekit accepts:
//   weight: 0.5                                  a scalar (booleans read as 1/0)
//   weight: [0, 0.5, 1]                          a gradient over the layers
//   weight: [{filter: mlp, value: 0.3}, {value: [0, 1]}]   conditionals, first match wins
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weld {

class YamlSource;

// A scalar (one point) or a gradient (several points).
struct ParamValue {
  std::vector<double> points;
  // The value at position t in [0, 1]: s = t(n-1), i0 = floor(s), i1 = min(n-1, i0+1),
  // f = s - i0, value = (1-f) v[i0] + f v[i1].
  double at(double t) const;
};

struct ParamRule {
  std::optional<std::string> filter;  // absent or "*" matches every tensor
  ParamValue value;
  // Plain substring match, as mergekit: no regex, no glob.
  bool matches(std::string_view tensor_name) const;
};

struct ParamSetting {
  std::vector<ParamRule> rules;
  // A scalar that is not a number (a file path); the recipe checks which parameters take one.
  std::optional<std::string> text;
  YAML::Mark value_mark;
  YAML::Mark mark;
  // The first matching rule's value at t, or nothing (fall through to the next level).
  std::optional<double> evaluate(std::string_view tensor_name, double t) const;
};

using ParamMap = std::map<std::string, ParamSetting>;

// Reads a `parameters:` block; errors point into `source`.
ParamMap parse_param_map(const YamlSource& source, const YAML::Node& node);

}  // namespace weld
