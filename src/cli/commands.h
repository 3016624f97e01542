// The subcommands of `weld`, one file each (cmd_<name>.cpp), in one table.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <span>

namespace weld {

// Registers a subcommand's options on `command` and returns what runs it once parsed.
using CommandAction = std::function<int()>;
using CommandSetup = CommandAction (*)(CLI::App& command);

struct CommandDef {
  const char* name;
  const char* summary;
  CommandSetup setup;
};

std::span<const CommandDef> all_commands();

// Parses argv and runs the chosen command. Returns the exit status; throws weld::Error for
// bad input and UsageError for bad usage that CLI11 does not catch itself.
int run_cli(int argc, char** argv);

CommandAction setup_merge(CLI::App& command);
CommandAction setup_inspect(CLI::App& command);
CommandAction setup_synth(CLI::App& command);
CommandAction setup_methods(CLI::App& command);
CommandAction setup_eval(CLI::App& command);
CommandAction setup_fisher(CLI::App& command);

// "5B" -> 5'000'000'000; K, M, B (or G) are decimal multipliers. Throws UsageError.
std::uint64_t parse_size(const std::string& text);

}  // namespace weld
