// A Hugging Face model directory: config.json plus model.safetensors, or shards named by
// model.safetensors.index.json ({"weight_map": {tensor: shard file}}). Every shard is
// mapped and validated on open; the index is checked against the shards (a named shard that
// is missing, a tensor not in the shard the index names, a tensor in two shards).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "io/safetensors_reader.h"

namespace weld {

struct TensorRef {
  const SafetensorsFile* file;
  const TensorInfo* info;
  std::span<const std::byte> data() const { return file->data(*info); }
  // Hints that bytes [offset, offset + length) of the tensor will be read soon.
  void prefetch(std::uint64_t offset, std::uint64_t length) const;
  // Unmaps the tensor's pages from this process (MappedFile::unmap_pages), once read.
  void unmap_pages() const;
  // Copies bytes [offset, offset + into.size()) of the tensor into `into` (MappedFile::read).
  // REQUIRES: they lie inside the tensor.
  void read(std::uint64_t offset, std::span<std::byte> into) const;
};

class ModelDir {
 public:
  // Errors name the directory (and the shard or index file at fault).
  static std::unique_ptr<ModelDir> open(const std::string& path);

  const std::string& path() const { return path_; }
  const nlohmann::json& config() const { return config_; }
  bool tie_word_embeddings() const;

  std::optional<TensorRef> find(std::string_view name) const;
  // Every tensor name, sorted (views of the shards' headers, which live as long as this).
  const std::vector<std::string_view>& tensor_names() const { return names_; }
  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }

 private:
  ModelDir() = default;
  void load_single(const std::string& file);
  void load_sharded(const std::string& index_file);
  void add_shard_tensors(const SafetensorsFile& shard);
  // Once every shard is added; fails on a name found in two shards.
  void sort_by_name();

  std::string path_;
  nlohmann::json config_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  // Sorted by name (views of the names in the shards' headers), the tensors in the same order:
  // binary search, and no allocation per tensor, as a hash map's nodes would be.
  std::vector<std::string_view> names_;
  std::vector<TensorRef> tensors_;
};

// Reads a JSON file; errors name the file.
nlohmann::json read_json_file(const std::string& path);

}  // namespace weld
