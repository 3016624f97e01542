// A read-only memory map of a whole file. Inputs are mapped, never read into buffers, so
// a merge's resident memory does not grow with the model.
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace weld {

class MappedFile {
 public:
  // Throws weld::Error naming the path if it cannot be opened or mapped.
  static MappedFile open(const std::string& path);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Hints that [offset, offset + length) is needed soon (MADV_WILLNEED); never fails.
  void prefetch(std::size_t offset, std::size_t length) const;

 private:
  MappedFile(std::string path, const std::byte* data, std::size_t size);
  void release();

  std::string path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace weld
