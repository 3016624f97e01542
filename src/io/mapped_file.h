// A read-only memory map of a whole file, and its descriptor for copies out of the page
// cache. Inputs are mapped or copied a tile at a time, never read whole into buffers, so a
// merge's resident memory does not grow with the model.
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

  // Hints that [offset, offset + length) is needed soon (MADV_WILLNEED), unless it looks
  // cached already (looks_cached); never fails.
  void prefetch(std::size_t offset, std::size_t length) const;
  // Whether the first, middle and last pages of [offset, offset + length) are in the page
  // cache (mincore): a sample, not every page. False for an empty or out-of-range range.
  bool looks_cached(std::size_t offset, std::size_t length) const;
  // Takes the whole pages inside [offset, offset + length) out of this process's page tables
  // (MADV_DONTNEED; the page cache keeps them), so that unmapping them is not left for the
  // end: a read of them afterwards maps them again. Never fails.
  void unmap_pages(std::size_t offset, std::size_t length) const;

  // Copies bytes [offset, offset + into.size()) into `into` with pread: the same bytes as
  // bytes(), without touching the map (on machines where a first touch of each mapped page
  // costs more than a copy; docs/performance.md). Throws weld::Error naming the path if the
  // read fails or the file ends first (it shrank since it was opened).
  void read(std::size_t offset, std::span<std::byte> into) const;

 private:
  MappedFile(std::string path, int fd, const std::byte* data, std::size_t size);
  void release();

  std::string path_;
  int fd_ = -1;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace weld
