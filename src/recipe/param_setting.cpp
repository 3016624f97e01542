#include "recipe/param_setting.h"

#include <algorithm>
#include <cmath>

#include "recipe/yaml_source.h"

namespace weld {

double ParamValue::at(double t) const {
  if (points.size() == 1) return points[0];
  const double s = t * static_cast<double>(points.size() - 1);
  const std::size_t i0 = static_cast<std::size_t>(std::floor(s));
  const std::size_t i1 = std::min(points.size() - 1, i0 + 1);
  const double f = s - static_cast<double>(i0);
  return (1.0 - f) * points[std::min(i0, points.size() - 1)] + f * points[i1];
}

bool ParamRule::matches(std::string_view tensor_name) const {
  return !filter || *filter == "*" || tensor_name.find(*filter) != std::string_view::npos;
}

std::optional<double> ParamSetting::evaluate(std::string_view tensor_name, double t) const {
  for (const ParamRule& rule : rules)
    if (rule.matches(tensor_name)) return rule.value.at(t);
  return std::nullopt;
}

namespace {

double parse_number(const YamlSource& source, const YAML::Node& node) {
  if (!node.IsScalar()) throw source.error_at(node.Mark(), "expected a number");
  const std::string& text = node.Scalar();
  if (text == "true" || text == "True") return 1.0;
  if (text == "false" || text == "False") return 0.0;
  double value;
  if (!YAML::convert<double>::decode(node, value) || std::isnan(value))
    throw source.error_at(node.Mark(), "expected a number, got '" + text + "'");
  return value;
}

ParamValue parse_value(const YamlSource& source, const YAML::Node& node) {
  ParamValue value;
  if (node.IsScalar()) {
    value.points.push_back(parse_number(source, node));
    return value;
  }
  if (!node.IsSequence() || node.size() == 0)
    throw source.error_at(node.Mark(), "expected a number or a non-empty list of numbers");
  for (const YAML::Node& point : node) value.points.push_back(parse_number(source, point));
  return value;
}

ParamRule parse_rule(const YamlSource& source, const YAML::Node& node) {
  if (!node.IsMap() || !node["value"])
    throw source.error_at(node.Mark(), "expected {filter: ..., value: ...}");
  for (const auto& entry : node) {
    const std::string key = entry.first.as<std::string>();
    if (key != "filter" && key != "value")
      throw source.error_at(entry.first.Mark(),
                            "unknown key '" + key + "' in a conditional (expected filter, value)");
  }
  ParamRule rule;
  if (const YAML::Node filter = node["filter"]; filter && !filter.IsNull()) {
    if (!filter.IsScalar()) throw source.error_at(filter.Mark(), "a filter must be a string");
    rule.filter = filter.Scalar();
  }
  rule.value = parse_value(source, node["value"]);
  return rule;
}

bool is_number(const YAML::Node& node) {
  double value;
  const std::string& text = node.Scalar();
  return text == "true" || text == "True" || text == "false" || text == "False" ||
         (YAML::convert<double>::decode(node, value) && !std::isnan(value));
}

ParamSetting parse_setting(const YamlSource& source, const YAML::Node& node) {
  ParamSetting setting;
  setting.mark = node.Mark();
  setting.value_mark = node.Mark();
  if (node.IsScalar() && !is_number(node)) {
    setting.text = node.Scalar();
  } else if (node.IsSequence() && node.size() > 0 && node[0].IsMap()) {
    for (const YAML::Node& rule : node) setting.rules.push_back(parse_rule(source, rule));
  } else {
    setting.rules.push_back({std::nullopt, parse_value(source, node)});
  }
  return setting;
}

}  // namespace

ParamMap parse_param_map(const YamlSource& source, const YAML::Node& node) {
  ParamMap params;
  if (!node || node.IsNull()) return params;
  if (!node.IsMap()) throw source.error_at(node.Mark(), "'parameters' must be a mapping");
  for (const auto& entry : node) {
    const std::string name = entry.first.as<std::string>();
    ParamSetting setting = parse_setting(source, entry.second);
    setting.mark = entry.first.Mark();
    params.emplace(name, std::move(setting));
  }
  return params;
}

}  // namespace weld
