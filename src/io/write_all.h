// Writing a whole span at an offset: pwrite may write less than asked (a signal, a file
// size limit), so it is repeated from where it stopped.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace weld {

// Throws weld::Error naming `path` if a write fails or makes no progress.
void pwrite_all(int fd, const std::string& path, std::span<const std::byte> bytes, std::uint64_t offset);

}  // namespace weld
