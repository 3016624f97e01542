// Reading the evaluation data: a stream of token ids.
//   --tokens FILE: uint32 little-endian ids, one stream (the file size is a multiple of 4);
//   --text FILE:   raw bytes, each byte its own id (0..255), for byte-vocabulary models.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weld {

std::vector<std::uint32_t> read_token_file(const std::string& path);
std::vector<std::uint32_t> read_text_file(const std::string& path);

// Throws weld::Error naming `source` and the first id >= vocab (with its index).
void check_token_ids(const std::vector<std::uint32_t>& tokens, std::size_t vocab,
                     const std::string& source);

}  // namespace weld
