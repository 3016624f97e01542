// The safetensors header: parse and validate.
//
// Layout of a .safetensors file:
//   [8 bytes]  N, little-endian u64: length of the JSON header
//   [N bytes]  JSON object, UTF-8, possibly padded with trailing spaces:
//              { "__metadata__": {str: str, ...}?,
//                "<tensor name>": {"dtype": "F32", "shape": [d0, ...],
//                                  "data_offsets": [begin, end]}, ... }
//   [rest]     the data section; offsets are relative to its start.
//
// Everything is validated before a header is returned, so downstream code never re-checks:
// header length against kMaxHeaderBytes and the file size; JSON object with string keys and
// no duplicate names; known dtype; shape of non-negative integers, rank <= kMaxRank; offsets
// non-negative integers (never through double) with begin <= end; end - begin equal to
// numel * dtype size (all products overflow-checked); tensors contiguous from 0 without
// gaps or overlaps once sorted by offset; the last end equal to the data section's size.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/dtype.h"

namespace weld {

// Real headers are a few MB at most (hundreds of thousands of tensors); a larger length
// field is corruption or an attack, and is refused before anything is allocated.
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
inline constexpr std::size_t kMaxRank = 8;
// The layout's fixed parts: the length field in front of the JSON, and the key of the
// string-to-string map beside the tensors.
inline constexpr std::size_t kHeaderLengthBytes = 8;
inline constexpr std::string_view kMetadataKey = "__metadata__";

struct TensorInfo {
  std::string_view name;  // into its SafetensorsHeader's names
  DType dtype;
  std::vector<std::uint64_t> shape;
  std::uint64_t numel;         // product of shape (1 for rank 0)
  std::uint64_t offset_begin;  // relative to the data section
  std::uint64_t offset_end;
  std::uint64_t size_bytes() const { return offset_end - offset_begin; }
};

// Move-only: the tensors' names view `names`, whose buffer a move keeps and a copy would not.
struct SafetensorsHeader {
  std::vector<TensorInfo> tensors;  // sorted by offset_begin
  std::map<std::string, std::string> metadata;
  std::uint64_t data_start;         // file offset of the data section: 8 + N
  // Every tensor's name, back to back: one allocation, not one per tensor (memory that grows
  // with the model).
  std::vector<char> names;

  SafetensorsHeader() = default;
  SafetensorsHeader(SafetensorsHeader&&) = default;
  SafetensorsHeader& operator=(SafetensorsHeader&&) = default;
};

// Parses and validates the header of a whole file held in `file`. Throws weld::Error with a
// message naming the tensor and the expected against the actual value; the caller adds the
// file name as context.
SafetensorsHeader parse_safetensors_header(std::span<const std::byte> file);

}  // namespace weld
