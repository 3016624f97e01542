// A recipe parsed from YAML text, as if read from a file named merge.yml.
#pragma once

#include <string>

#include "recipe/recipe.h"

namespace weld::test {

inline Recipe parse_merge_yml(const std::string& yaml) {
  return parse_recipe(YamlSource::parse(yaml, "merge.yml"));
}

}  // namespace weld::test
