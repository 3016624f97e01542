// weld inspect MODEL_DIR [--json]: every tensor (name, dtype, shape, bytes, shard), the layer
// structure, totals and the architecture from config.json.
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include <fmt/ranges.h>
#include "util/error.h"
#include "io/model_dir.h"
#include "plan/layer_names.h"
#include "plan/progress.h"

namespace weld {
namespace {

std::string config_string(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return "?";
  if (it->is_array() && !it->empty() && it->front().is_string()) return it->front().get<std::string>();
  return it->is_string() ? it->get<std::string>() : it->dump();
}

nlohmann::ordered_json inspect_json(const ModelDir& model, const LayerStructure& layers) {
  nlohmann::ordered_json out;
  out["path"] = model.path();
  out["architecture"] = config_string(model.config(), "architectures");
  out["model_type"] = config_string(model.config(), "model_type");
  std::uint64_t total = 0;
  std::map<std::string, std::uint64_t> dtypes;
  nlohmann::ordered_json tensors = nlohmann::ordered_json::array();
  for (const std::string_view name : model.tensor_names()) {
    const TensorRef ref = *model.find(name);
    total += ref.info->size_bytes();
    ++dtypes[std::string(dtype_name(ref.info->dtype))];
    tensors.push_back({{"name", name},
                       {"dtype", dtype_name(ref.info->dtype)},
                       {"shape", ref.info->shape},
                       {"bytes", ref.info->size_bytes()},
                       {"shard", std::filesystem::path(ref.file->path()).filename().string()}});
  }
  out["n_tensors"] = model.tensor_names().size();
  out["total_bytes"] = total;
  out["n_shards"] = model.shards().size();
  out["dtypes"] = dtypes;
  out["layers"] = {{"container", layers.container},
                   {"count", layers.n_layers},
                   {"tensors_per_layer", layers.suffixes.size()},
                   {"pre", layers.pre_names},
                   {"post", layers.post_names}};
  out["tensors"] = std::move(tensors);
  return out;
}

void print_text(const nlohmann::ordered_json& info) {
  std::printf("model: %s\n", info["path"].get<std::string>().c_str());
  std::printf("architecture: %s (%s)\n", info["architecture"].get<std::string>().c_str(),
              info["model_type"].get<std::string>().c_str());
  std::printf("tensors: %zu, %s in %zu shard%s\n", info["n_tensors"].get<std::size_t>(),
              format_bytes(info["total_bytes"].get<std::uint64_t>()).c_str(),
              info["n_shards"].get<std::size_t>(), info["n_shards"].get<std::size_t>() == 1 ? "" : "s");
  std::string dtypes;
  for (const auto& [name, count] : info["dtypes"].items())
    dtypes += fmt::format("{}{} x{}", dtypes.empty() ? "" : ", ", name, count.get<std::uint64_t>());
  std::printf("dtypes: %s\n", dtypes.c_str());
  const auto& layers = info["layers"];
  std::printf("layers: %zu in '%s', %zu tensors each; pre: %s; post: %s\n\n",
              layers["count"].get<std::size_t>(), layers["container"].get<std::string>().c_str(),
              layers["tensors_per_layer"].get<std::size_t>(),
              fmt::format("{}", fmt::join(layers["pre"].get<std::vector<std::string>>(), ", ")).c_str(),
              fmt::format("{}", fmt::join(layers["post"].get<std::vector<std::string>>(), ", ")).c_str());
  for (const auto& t : info["tensors"]) {
    std::printf("%-52s %-5s %-16s %12s  %s\n", t["name"].get<std::string>().c_str(),
                t["dtype"].get<std::string>().c_str(),
                fmt::format("[{}]", fmt::join(t["shape"].get<std::vector<std::uint64_t>>(), ", ")).c_str(),
                format_bytes(t["bytes"].get<std::uint64_t>()).c_str(), t["shard"].get<std::string>().c_str());
  }
}

}  // namespace

CommandAction setup_inspect(CLI::App& command) {
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  command.add_option("model_dir", args->model, "model directory")->required();
  command.add_flag("--json", args->json, "print one JSON object");
  return [args] {
    const std::unique_ptr<ModelDir> model = ModelDir::open(args->model);
    const LayerStructure layers = with_context(fmt::format("model '{}'", args->model), [&] {
      return layer_structure(model->tensor_names());
    });
    const nlohmann::ordered_json info = inspect_json(*model, layers);
    if (args->json) {
      std::printf("%s\n", info.dump(2).c_str());
    } else {
      print_text(info);
    }
    return 0;
  };
}

}  // namespace weld
