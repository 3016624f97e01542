// Writes one safetensors file whose layout is planned before any data exists.
//
// The header (names, dtypes, shapes, offsets) is computed from the plan alone, written first,
// and the file is extended to its final size; tensor data is then pwrite()n to its planned
// place as soon as it is ready, from any thread, in any order. Contract as LevelDB's
// TableBuilder: create() / write()* / finish(); the destructor abandons (deletes the file)
// if finish() was never called.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "io/dtype.h"

namespace weld {

struct PlannedTensor {
  std::string name;
  DType dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t size_bytes() const;
};

// The bytes of the 8-byte length + JSON header for `tensors` laid out contiguously in the
// given order, padded with spaces to a multiple of 8 so that the data section is aligned.
// REQUIRES: unique names, none of them "__metadata__".
std::string safetensors_header_bytes(const std::vector<PlannedTensor>& tensors,
                                     const std::map<std::string, std::string>& metadata);

class DirectWrites;

class SafetensorsWriter {
 public:
  // Creates `path` (which must not exist) with the planned header and full size. With
  // `direct`, the file is opened with O_DIRECT and written through it (io/direct_writes.h),
  // unless its file system refuses O_DIRECT; `direct` must outlive the writer.
  static std::unique_ptr<SafetensorsWriter> create(
      const std::string& path, const std::vector<PlannedTensor>& tensors,
      const std::map<std::string, std::string>& metadata, DirectWrites* direct = nullptr);
  ~SafetensorsWriter();

  std::uint64_t file_size() const { return file_offsets_.back(); }
  // Where tensor `index`'s data starts in the file.
  std::uint64_t data_offset(std::size_t index) const { return file_offsets_[index]; }
  // Whether it writes around the page cache.
  bool direct() const { return direct_ != nullptr; }

  // Writes `bytes` at `offset_in_tensor` inside tensor `index`.
  // REQUIRES: the range lies inside the tensor. Safe to call from several threads.
  void write(std::size_t index, std::uint64_t offset_in_tensor, std::span<const std::byte> bytes);
  // Where it writes around the page cache: room in its runs for the n bytes at
  // `offset_in_tensor` inside tensor `index`, to be filled and then committed through the
  // DirectWrites. Empty where it does not, or n is more than a run takes (write() them then).
  // REQUIRES: the range lies inside the tensor.
  std::span<std::byte> reserve(std::size_t index, std::uint64_t offset_in_tensor, std::size_t n);

  // Closes the file, which is then complete. If close() fails, deletes the file and throws
  // weld::Error naming it. REQUIRES: not yet finished or abandoned.
  void finish();
  // Closes and deletes the file; does nothing once finish() or abandon() has run (a finish()
  // that throws has already deleted the file).
  void abandon();

 private:
  SafetensorsWriter(std::string path, int fd, std::vector<std::uint64_t> file_offsets);
  void write_at(std::uint64_t offset, std::span<const std::byte> bytes);
  // The offset in the file of the n bytes at `offset_in_tensor` inside tensor `index`.
  std::uint64_t file_offset(std::size_t index, std::uint64_t offset_in_tensor, std::size_t n) const;

  std::string path_;
  int fd_;
  DirectWrites* direct_ = nullptr;  // with its id of the file
  std::size_t direct_file_ = 0;
  // Where each tensor's data starts, then the file's end: the writer keeps no names or shapes,
  // as a model's worth of them is memory that grows with the model.
  std::vector<std::uint64_t> file_offsets_;
};

}  // namespace weld
