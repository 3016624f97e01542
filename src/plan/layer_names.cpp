#include "plan/layer_names.h"

#include <algorithm>
#include <set>

#include "util/error.h"

namespace weld {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_embedding(std::string_view name) {
  return name.find("embed") != std::string_view::npos || name.find("wte") != std::string_view::npos ||
         name.find("wpe") != std::string_view::npos;
}

}  // namespace

TensorName parse_tensor_name(std::string_view name) {
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = name.find('.', start);
    const std::string_view part = name.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (all_digits(part) && start > 0 && dot != std::string_view::npos && part.size() < 10) {
      return {TensorRole::kLayer, std::string(name.substr(0, start - 1)),
              std::stoul(std::string(part)), std::string(name.substr(dot + 1))};
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {is_embedding(name) ? TensorRole::kPreLayer : TensorRole::kPostLayer, "", 0, ""};
}

std::string layer_tensor_name(std::string_view container, std::size_t layer,
                              std::string_view suffix) {
  return fmt::format("{}.{}.{}", container, layer, suffix);
}

LayerStructure layer_structure(const std::vector<std::string_view>& names) {
  LayerStructure s;
  std::set<std::string> suffixes;
  for (const std::string_view name : names) {
    const TensorName parsed = parse_tensor_name(name);
    switch (parsed.role) {
      case TensorRole::kPreLayer: s.pre_names.emplace_back(name); break;
      case TensorRole::kPostLayer: s.post_names.emplace_back(name); break;
      case TensorRole::kLayer:
        if (!s.container.empty() && s.container != parsed.container)
          fail("tensors use two layer containers, '{}' and '{}'; weld handles one", s.container,
               parsed.container);
        s.container = parsed.container;
        s.n_layers = std::max(s.n_layers, parsed.layer + 1);
        suffixes.insert(parsed.suffix);
        break;
    }
  }
  s.suffixes.assign(suffixes.begin(), suffixes.end());
  return s;
}

}  // namespace weld
