// Bytes read back from a file, as text, for comparing with what a test wrote.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace weld::test {

inline std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace weld::test
