#include "recipe/yaml_source.h"

#include <fstream>
#include <sstream>

namespace weld {

YamlSource YamlSource::load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open config '{}'", path);
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

YamlSource YamlSource::parse(std::string text, std::string name) {
  YamlSource source(std::move(text), std::move(name));
  try {
    source.root_ = YAML::Load(source.text_);
  } catch (const YAML::ParserException& e) {
    throw source.error_at(e.mark, "YAML syntax error: " + e.msg);
  }
  return source;
}

YamlSource::YamlSource(std::string text, std::string name)
    : text_(std::move(text)), name_(std::move(name)) {
  std::string_view rest = text_;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    lines_.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
}

Error YamlSource::error_at(const YAML::Mark& mark, std::string message) const {
  Error error(std::move(message));
  if (mark.is_null() || mark.line < 0) {
    error.add_context(name_);
    return error;
  }
  error.add_context(fmt::format("{}:{}", name_, mark.line + 1));
  if (static_cast<std::size_t>(mark.line) < lines_.size()) {
    const std::string_view line = lines_[static_cast<std::size_t>(mark.line)];
    error.set_detail(fmt::format("  {}\n  {}^ near here", line,
                                 std::string(static_cast<std::size_t>(mark.column), ' ')));
  }
  return error;
}

}  // namespace weld
