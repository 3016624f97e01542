#include "eval/tokens.h"

#include <fstream>
#include <iterator>

#include "util/error.h"

namespace weld {
namespace {

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("{}: cannot open", path);
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                   std::istreambuf_iterator<char>());
  if (in.bad()) fail("{}: read error", path);
  return bytes;
}

}  // namespace

std::vector<std::uint32_t> read_token_file(const std::string& path) {
  const std::vector<unsigned char> bytes = read_bytes(path);
  if (bytes.size() % 4 != 0)
    fail("{}: {} bytes is not a whole number of uint32 token ids", path, bytes.size());
  std::vector<std::uint32_t> tokens(bytes.size() / 4);
  for (std::size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = std::uint32_t{bytes[4 * i]} | std::uint32_t{bytes[4 * i + 1]} << 8 |
                std::uint32_t{bytes[4 * i + 2]} << 16 | std::uint32_t{bytes[4 * i + 3]} << 24;
  return tokens;
}

std::vector<std::uint32_t> read_text_file(const std::string& path) {
  const std::vector<unsigned char> bytes = read_bytes(path);
  return std::vector<std::uint32_t>(bytes.begin(), bytes.end());
}

void check_token_ids(const std::vector<std::uint32_t>& tokens, std::size_t vocab,
                     const std::string& source) {
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] >= vocab)
      fail("{}: token {} is id {}, not below the vocabulary size {}", source, i, tokens[i], vocab);
}

}  // namespace weld
