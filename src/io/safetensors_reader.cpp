#include "io/safetensors_reader.h"

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
  // Keys view the names inside header_.tensors, which is never modified after this point.
  by_name_.reserve(header_.tensors.size());
  for (const TensorInfo& info : header_.tensors) by_name_.emplace(info.name, &info);
}

const TensorInfo* SafetensorsFile::find(std::string_view name) const {
  const auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::span<const std::byte> SafetensorsFile::data(const TensorInfo& info) const {
  // Validated on open: every tensor lies inside the data section, which ends at the file's end.
  return file_.bytes().subspan(header_.data_start + info.offset_begin, info.size_bytes());
}

}  // namespace weld
