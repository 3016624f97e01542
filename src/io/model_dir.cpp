#include "io/model_dir.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "util/check.h"
#include "util/error.h"

namespace weld {

namespace fs = std::filesystem;

nlohmann::json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::stringstream text;
  text << in.rdbuf();
  try {
    return nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

std::unique_ptr<ModelDir> ModelDir::open(const std::string& path) {
  std::unique_ptr<ModelDir> model(new ModelDir());
  model->path_ = path;
  if (!fs::is_directory(path)) fail("model '{}': no such directory", path);
  with_context(fmt::format("model '{}'", path), [&] {
    const std::string config = (fs::path(path) / "config.json").string();
    if (!fs::exists(config)) fail("no config.json");
    model->config_ = read_json_file(config);
    if (!model->config_.is_object()) fail("{}: not a JSON object", config);

    const std::string single = (fs::path(path) / "model.safetensors").string();
    const std::string index = (fs::path(path) / "model.safetensors.index.json").string();
    if (fs::exists(index)) {
      model->load_sharded(index);
    } else if (fs::exists(single)) {
      model->load_single(single);
    } else {
      fail("no model.safetensors or model.safetensors.index.json");
    }
    model->sort_by_name();
  });
  return model;
}

void ModelDir::load_single(const std::string& file) {
  shards_.push_back(SafetensorsFile::open(file));
  add_shard_tensors(*shards_.back());
}

void ModelDir::load_sharded(const std::string& index_file) {
  const nlohmann::json index = read_json_file(index_file);
  const auto map = index.find("weight_map");
  if (!index.is_object() || map == index.end() || !map->is_object())
    fail("{}: no \"weight_map\" object", index_file);

  std::map<std::string, std::vector<std::string>> tensors_by_shard;
  for (const auto& [tensor, shard] : map->items()) {
    if (!shard.is_string()) fail("{}: weight_map[\"{}\"] is not a file name", index_file, tensor);
    const std::string name = shard.get<std::string>();
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
      fail("{}: weight_map[\"{}\"] names '{}', not a file in the model directory", index_file,
           tensor, name);
    tensors_by_shard[name].push_back(tensor);
  }
  for (const auto& [shard_name, listed] : tensors_by_shard) {
    const std::string shard_path = (fs::path(path_) / shard_name).string();
    if (!fs::exists(shard_path))
      fail("{}: shard '{}' named in the index does not exist", index_file, shard_name);
    shards_.push_back(SafetensorsFile::open(shard_path));
    for (const std::string& tensor : listed)
      if (!shards_.back()->find(tensor))
        fail("{}: tensor '{}' is not in shard '{}' where the index puts it", index_file, tensor,
             shard_name);
    add_shard_tensors(*shards_.back());
  }
}

void ModelDir::add_shard_tensors(const SafetensorsFile& shard) {
  for (const TensorInfo& info : shard.tensors()) tensors_.push_back({&shard, &info});
}

void ModelDir::sort_by_name() {
  // Stable: of two tensors of one name, the one from the earlier shard comes first.
  std::stable_sort(tensors_.begin(), tensors_.end(),
                   [](const TensorRef& a, const TensorRef& b) { return a.info->name < b.info->name; });
  for (std::size_t i = 1; i < tensors_.size(); ++i)
    if (tensors_[i].info->name == tensors_[i - 1].info->name)
      fail("tensor '{}' is in both '{}' and '{}'", tensors_[i].info->name, tensors_[i - 1].file->path(),
           tensors_[i].file->path());
  names_.reserve(tensors_.size());
  for (const TensorRef& t : tensors_) names_.emplace_back(t.info->name);
}

std::optional<TensorRef> ModelDir::find(std::string_view name) const {
  const auto it = std::lower_bound(names_.begin(), names_.end(), name);
  if (it == names_.end() || *it != name) return std::nullopt;
  return tensors_[static_cast<std::size_t>(it - names_.begin())];
}

bool ModelDir::tie_word_embeddings() const {
  const auto it = config_.find("tie_word_embeddings");
  return it != config_.end() && it->is_boolean() && it->get<bool>();
}

void TensorRef::prefetch(std::uint64_t offset, std::uint64_t length) const {
  const std::span<const std::byte> bytes = data();
  if (offset >= bytes.size()) return;
  const auto start = static_cast<std::size_t>(bytes.data() - file->mapped().bytes().data()) + offset;
  file->mapped().prefetch(start, std::min<std::uint64_t>(length, bytes.size() - offset));
}

void TensorRef::unmap_pages() const {
  const std::span<const std::byte> bytes = data();
  file->mapped().unmap_pages(static_cast<std::size_t>(bytes.data() - file->mapped().bytes().data()), bytes.size());
}

void TensorRef::read(std::uint64_t offset, std::span<std::byte> into) const {
  const std::span<const std::byte> bytes = data();
  WELD_CHECK(offset <= bytes.size() && into.size() <= bytes.size() - offset);
  file->mapped().read(static_cast<std::size_t>(file->data_start() + info->offset_begin + offset), into);
}

}  // namespace weld
