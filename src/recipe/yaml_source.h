// A YAML config file kept with its text, so that errors can point at the line:
//   weld: error: merge.yml:7: unknown merge method 'tie' (did you mean 'ties'?)
//     merge_method: tie
//                   ^ near here
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "util/error.h"

namespace weld {

class YamlSource {
 public:
  // Reads and parses `path`; a syntax error names the file and line.
  static YamlSource load_file(const std::string& path);
  // Parses `text` as if read from `name` (tests, fuzzing).
  static YamlSource parse(std::string text, std::string name);

  const YAML::Node& root() const { return root_; }
  const std::string& name() const { return name_; }
  const std::string& text() const { return text_; }

  // An Error whose context is "name:line" and whose detail quotes the line with a caret under
  // the column of `mark`.
  Error error_at(const YAML::Mark& mark, std::string message) const;

 private:
  YamlSource(std::string text, std::string name);

  std::string text_;
  std::string name_;
  std::vector<std::string_view> lines_;
  YAML::Node root_;
};

}  // namespace weld
