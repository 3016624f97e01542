#include "io/write_all.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace weld {

void pwrite_all(int fd, const std::string& path, std::span<const std::byte> bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write '{}': {}", path, std::strerror(errno));
    if (n == 0) fail("cannot write '{}': no progress at offset {}", path, offset);
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
}

}  // namespace weld
