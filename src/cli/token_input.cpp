#include "cli/token_input.h"

#include "eval/tokens.h"
#include "util/error.h"

namespace weld {

void TokenInput::add_options(CLI::App& command) {
  command.add_option("--tokens", tokens_file, "token ids, uint32 little-endian");
  command.add_option("--text", text_file, "raw bytes, for byte-vocabulary models");
}

std::vector<std::uint32_t> TokenInput::read() const {
  if (text_file.empty() == tokens_file.empty())
    throw UsageError("give exactly one of --tokens FILE and --text FILE");
  return is_text() ? read_text_file(text_file) : read_token_file(tokens_file);
}

}  // namespace weld
