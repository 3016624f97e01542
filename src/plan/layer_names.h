// How tensor names map to layers, for Llama-style Hugging Face checkpoints:
//   model.embed_tokens.weight              pre-layer weight
//   model.layers.12.mlp.up_proj.weight     layer 12 of container "model.layers"
//   model.norm.weight, lm_head.weight      post-layer weights
// The layer is the first all-digit component of the name; the components before it are the
// layer container. Names without one are pre-layer weights when they are embeddings (the
// name contains "embed", "wte" or "wpe") and post-layer weights otherwise.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace weld {

enum class TensorRole { kPreLayer, kLayer, kPostLayer };

struct TensorName {
  TensorRole role;
  std::string container;   // "model.layers" (kLayer only)
  std::size_t layer = 0;   // kLayer only
  std::string suffix;      // "mlp.up_proj.weight" (kLayer only)
};

TensorName parse_tensor_name(std::string_view name);
std::string layer_tensor_name(std::string_view container, std::size_t layer, std::string_view suffix);

// The layer containers and layer counts of a set of names (count = highest index + 1).
struct LayerStructure {
  std::string container;   // "" when the model has no numbered layers
  std::size_t n_layers = 0;
  std::vector<std::string> pre_names, post_names;
  std::vector<std::string> suffixes;  // distinct layer suffixes, sorted
};

// Throws weld::Error if the names use more than one layer container.
LayerStructure layer_structure(const std::vector<std::string_view>& names);

}  // namespace weld
