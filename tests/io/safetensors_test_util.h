// Small helpers for the safetensors tests: file bytes built from a literal JSON header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace weld::test {

// Data bytes are numbered so that a test can tell which part of the file a view shows.
inline char data_byte(std::size_t index) { return static_cast<char>(index % 251); }

// 8-byte little-endian `value`.
inline std::string le_u64_bytes(std::uint64_t value) {
  std::string bytes(8, '\0');
  for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return bytes;
}

// A safetensors file: the length of `json`, `json` itself, then `data_bytes` bytes of data.
inline std::string safetensors_file(std::string_view json, std::size_t data_bytes) {
  std::string file = le_u64_bytes(json.size()) + std::string(json);
  for (std::size_t i = 0; i < data_bytes; ++i) file += data_byte(i);
  return file;
}

inline std::span<const std::byte> byte_span(std::string_view bytes) {
  return std::as_bytes(std::span(bytes.data(), bytes.size()));
}

}  // namespace weld::test
