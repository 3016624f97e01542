// A validated, memory-mapped safetensors file.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "io/mapped_file.h"
#include "io/safetensors_header.h"

namespace weld {

class SafetensorsFile {
 public:
  // Maps and validates the whole header; errors carry the path as context. A file that
  // returns from open() is fully valid.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return file_.path(); }
  const std::vector<TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  // nullptr if absent.
  const TensorInfo* find(std::string_view name) const;
  // The tensor's bytes inside the map (size == info.size_bytes()).
  std::span<const std::byte> data(const TensorInfo& info) const;
  const MappedFile& mapped() const { return file_; }
  std::uint64_t data_start() const { return header_.data_start; }

 private:
  SafetensorsFile(MappedFile file, SafetensorsHeader header);

  MappedFile file_;
  SafetensorsHeader header_;
  // Sorted by name, for binary search: a hash map would allocate a node per tensor, memory
  // that grows with the model.
  std::vector<const TensorInfo*> by_name_;
};

}  // namespace weld
