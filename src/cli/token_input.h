// The data weld eval and weld fisher read: --tokens FILE (uint32 ids) or --text FILE (bytes
// as ids), exactly one of them.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace weld {

struct TokenInput {
  std::string tokens_file;
  std::string text_file;

  void add_options(CLI::App& command);
  bool is_text() const { return !text_file.empty(); }
  const std::string& path() const { return is_text() ? text_file : tokens_file; }
  // Throws UsageError unless exactly one file was given, weld::Error if it cannot be read.
  std::vector<std::uint32_t> read() const;
};

}  // namespace weld
