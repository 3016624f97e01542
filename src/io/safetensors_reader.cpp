#include "io/safetensors_reader.h"

#include <algorithm>

#include <utility>

#include "util/error.h"

namespace weld {

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  MappedFile file = MappedFile::open(path);  // its errors already name the path
  SafetensorsHeader header =
      with_context(path, [&] { return parse_safetensors_header(file.bytes()); });
  return std::unique_ptr<SafetensorsFile>(new SafetensorsFile(std::move(file), std::move(header)));
}

SafetensorsFile::SafetensorsFile(MappedFile file, SafetensorsHeader header)
    : file_(std::move(file)), header_(std::move(header)) {
  // Points into header_.tensors, which is never modified after this point.
  by_name_.reserve(header_.tensors.size());
  for (const TensorInfo& info : header_.tensors) by_name_.push_back(&info);
  std::sort(by_name_.begin(), by_name_.end(), [](const TensorInfo* a, const TensorInfo* b) { return a->name < b->name; });
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                                   [](const TensorInfo* info, std::string_view key) { return info->name < key; });
  return it != by_name_.end() && (*it)->name == name ? *it : nullptr;
}

std::span<const std::byte> SafetensorsFile::data(const TensorInfo& info) const {
  // Validated on open: every tensor lies inside the data section, which ends at the file's end.
  return file_.bytes().subspan(header_.data_start + info.offset_begin, info.size_bytes());
}

}  // namespace weld
