#include "io/safetensors_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "io/direct_writes.h"
#include "io/safetensors_header.h"
#include "io/write_all.h"
#include "util/check.h"
#include "util/checked_math.h"
#include "util/error.h"

namespace weld {
namespace {

// The data section starts on a multiple of this, so that a reader mapping the file can view
// any tensor of up to 8-byte elements in place, aligned.
constexpr std::size_t kDataAlignment = 8;
constexpr mode_t kFileMode = 0644;  // before the umask, as any ordinary new file

// Gives the new file its final size with its blocks allocated (fallocate) where the file
// system can, rather than as a hole (ftruncate): a disk without room for the output fails the
// merge before any work is done, and the writes fill blocks the file system already holds, so
// ext4 skips its bookkeeping of delayed allocation for every block written (pwrite of 2.2 GB in
// 4 MiB pieces: 0.31-0.34 s into a preallocated file against 0.44-0.57 s after ftruncate).
void allocate(int fd, const std::string& path, std::uint64_t size) {
  const auto length = static_cast<off_t>(size);
  if (::fallocate(fd, 0, 0, length) == 0) return;
  // A file system without fallocate gets a hole instead.
  if ((errno == EOPNOTSUPP || errno == ENOSYS) && ::ftruncate(fd, length) == 0) return;
  fail("cannot allocate {} bytes for '{}': {}", size, path, std::strerror(errno));
}

std::string le_u64(std::uint64_t value) {
  std::string bytes(kHeaderLengthBytes, '\0');
  for (std::size_t i = 0; i < kHeaderLengthBytes; ++i)
    bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

std::string header_json(const std::vector<PlannedTensor>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[kMetadataKey] = metadata;
  std::uint64_t offset = 0;
  for (const PlannedTensor& t : tensors) {
    WELD_CHECK(t.name != kMetadataKey);
    const std::optional<std::uint64_t> end = checked_add(offset, t.size_bytes());
    WELD_CHECK(end.has_value());
    header[t.name] = {
        {"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {offset, *end}}};
    offset = *end;
  }
  // A repeated name would silently replace an entry; plans never hold one.
  WELD_CHECK(header.size() == tensors.size() + (metadata.empty() ? 0 : 1));
  try {
    return header.dump();
  } catch (const nlohmann::ordered_json::exception&) {
    // Only a string that is not UTF-8 fails to serialise.
    fail("cannot write a safetensors header: a tensor name or metadata entry is not UTF-8");
  }
}

std::span<const std::byte> text_bytes(const std::string& text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

}  // namespace

std::uint64_t PlannedTensor::size_bytes() const {
  std::optional<std::uint64_t> size = dtype_size(dtype);
  for (const std::uint64_t dim : shape) size = size ? checked_mul(*size, dim) : std::nullopt;
  // Plans are made from validated inputs, whose sizes fit in 64 bits.
  WELD_CHECK(size.has_value());
  return *size;
}

std::string safetensors_header_bytes(const std::vector<PlannedTensor>& tensors,
                                     const std::map<std::string, std::string>& metadata) {
  std::string json = header_json(tensors, metadata);
  // Trailing spaces are valid JSON whitespace; they put the data section on an aligned offset.
  const std::size_t padded = (json.size() + kDataAlignment - 1) / kDataAlignment * kDataAlignment;
  json.resize(padded, ' ');
  return le_u64(json.size()) + json;
}

std::unique_ptr<SafetensorsWriter> SafetensorsWriter::create(
    const std::string& path, const std::vector<PlannedTensor>& tensors,
    const std::map<std::string, std::string>& metadata, DirectWrites* direct) {
  const std::string header = safetensors_header_bytes(tensors, metadata);
  std::vector<std::uint64_t> file_offsets;
  std::uint64_t file_size = header.size();
  for (const PlannedTensor& t : tensors) {
    file_offsets.push_back(file_size);
    const std::optional<std::uint64_t> end = checked_add(file_size, t.size_bytes());
    WELD_CHECK(end.has_value());
    file_size = *end;
  }
  file_offsets.push_back(file_size);
  const int fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, kFileMode);
  if (fd < 0) fail("cannot create '{}': {}", path, std::strerror(errno));
  // Set after creating rather than at open: where the file system has no O_DIRECT (tmpfs,
  // say), open() refuses it only once it has made the file. There it is written through the
  // page cache.
  if (direct && ::fcntl(fd, F_SETFL, O_DIRECT) != 0) direct = nullptr;
  // From here on the writer owns the file, and its destructor deletes it if a step fails.
  std::unique_ptr<SafetensorsWriter> writer(
      new SafetensorsWriter(path, fd, std::move(file_offsets)));
  // The data section is made now, so that write() only ever fills existing bytes.
  allocate(fd, path, file_size);
  if (direct) {
    writer->direct_ = direct;
    writer->direct_file_ = direct->add_file(fd, path, file_size);
  }
  writer->write_at(0, text_bytes(header));
  return writer;
}

SafetensorsWriter::SafetensorsWriter(std::string path, int fd, std::vector<std::uint64_t> file_offsets)
    : path_(std::move(path)), fd_(fd), file_offsets_(std::move(file_offsets)) {}

SafetensorsWriter::~SafetensorsWriter() { abandon(); }

void SafetensorsWriter::write(std::size_t index, std::uint64_t offset_in_tensor,
                              std::span<const std::byte> bytes) {
  write_at(file_offset(index, offset_in_tensor, bytes.size()), bytes);
}

std::span<std::byte> SafetensorsWriter::reserve(std::size_t index, std::uint64_t offset_in_tensor, std::size_t n) {
  const std::uint64_t offset = file_offset(index, offset_in_tensor, n);
  if (!direct_ || n == 0 || n > DirectWrites::kMaxPiece) return {};
  return direct_->reserve(direct_file_, offset, n);
}

std::uint64_t SafetensorsWriter::file_offset(std::size_t index, std::uint64_t offset_in_tensor, std::size_t n) const {
  WELD_CHECK(fd_ >= 0);
  WELD_CHECK(index + 1 < file_offsets_.size());
  const std::uint64_t tensor_bytes = file_offsets_[index + 1] - file_offsets_[index];
  WELD_CHECK(offset_in_tensor <= tensor_bytes && n <= tensor_bytes - offset_in_tensor);
  return file_offsets_[index] + offset_in_tensor;
}

void SafetensorsWriter::write_at(std::uint64_t offset, std::span<const std::byte> bytes) {
  if (direct_) {
    direct_->write(direct_file_, offset, bytes);
  } else {
    pwrite_all(fd_, path_, bytes, offset);
  }
}

void SafetensorsWriter::finish() {
  WELD_CHECK(fd_ >= 0);
  if (direct_) {
    try {
      direct_->finish(direct_file_);
    } catch (const Error&) {
      abandon();
      throw;
    }
  }
  // No fsync, for speed: the data is safe in the page cache against a crash of weld itself,
  // though not against power loss. close() still reports delayed errors (NFS, quotas).
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(path_.c_str());
    fail("cannot close '{}': {}", path_, std::strerror(err));
  }
}

void SafetensorsWriter::abandon() {
  if (fd_ < 0) return;
  if (direct_) direct_->discard(direct_file_);  // its writing thread may still hold the fd
  ::close(std::exchange(fd_, -1));
  ::unlink(path_.c_str());
}

}  // namespace weld
