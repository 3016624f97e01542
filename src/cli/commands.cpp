#include "cli/commands.h"

#include <array>
#include <cctype>

#include "util/error.h"
#include "util/log.h"

#ifndef WELD_VERSION
#define WELD_VERSION "0.0.0"
#endif

namespace weld {
namespace {

const std::array<CommandDef, 6> kCommands = {{
    {"merge", "merge models as a mergekit-style YAML config says", setup_merge},
    {"inspect", "list a model's tensors, layers and totals", setup_inspect},
    {"synth", "write a small synthetic Llama-shaped model family", setup_synth},
    {"methods", "list the merge methods, or show one", setup_methods},
    {"eval", "perplexity of Llama-family models over a token or text file", setup_eval},
    {"fisher", "diagonal Fisher information of a model's weights", setup_fisher},
}};

}  // namespace

std::span<const CommandDef> all_commands() { return kCommands; }

std::uint64_t parse_size(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && (std::isdigit(static_cast<unsigned char>(text[digits])) || text[digits] == '.'))
    ++digits;
  const std::string suffix = text.substr(digits);
  double multiplier = 1;
  if (suffix == "K" || suffix == "k") multiplier = 1e3;
  else if (suffix == "M" || suffix == "m") multiplier = 1e6;
  else if (suffix == "B" || suffix == "b" || suffix == "G" || suffix == "g") multiplier = 1e9;
  else if (!suffix.empty()) throw UsageError(fmt::format("invalid size '{}' (examples: 500M, 5B)", text));
  double value = 0;
  try {
    value = digits ? std::stod(text.substr(0, digits)) : -1;
  } catch (const std::exception&) {
    value = -1;
  }
  if (value <= 0) throw UsageError(fmt::format("invalid size '{}' (examples: 500M, 5B)", text));
  return static_cast<std::uint64_t>(value * multiplier);
}

int run_cli(int argc, char** argv) {
  CLI::App app("weld: merge neural-network checkpoints in weight space", "weld");
  app.set_version_flag("--version", std::string("weld ") + WELD_VERSION);
  app.require_subcommand(1);
  bool quiet = false;
  bool verbose = false;
  app.add_flag("-q,--quiet", quiet, "print only errors")->configurable(false);
  app.add_flag("-v,--verbose", verbose, "print more detail");
  CommandAction action;
  for (const CommandDef& def : kCommands) {
    CLI::App* command = app.add_subcommand(def.name, def.summary);
    command->fallthrough();
    CommandAction run = def.setup(*command);
    command->callback([&action, run] { action = run; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : 2;
  }
  set_verbosity(quiet ? Verbosity::kQuiet : verbose ? Verbosity::kVerbose : Verbosity::kNormal);
  return action();
}

}  // namespace weld
