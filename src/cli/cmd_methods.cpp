// weld methods [NAME]: the method table, or one method's formula, paper and parameters.
#include <cstdio>
#include <memory>

#include "cli/commands.h"
#include <fmt/ranges.h>
#include "util/error.h"
#include "methods/registry.h"

namespace weld {
namespace {

std::string inputs_string(const MethodDescriptor& m) {
  if (m.max_inputs == kUnbounded) return fmt::format("{}+", m.min_inputs);
  if (m.min_inputs == m.max_inputs) return fmt::format("{}", m.min_inputs);
  return fmt::format("{}-{}", m.min_inputs, m.max_inputs);
}

const char* base_string(BaseUse base) {
  switch (base) {
    case BaseUse::kRequired: return "required";
    case BaseUse::kOptional: return "optional";
    case BaseUse::kIgnored: return "not used";
  }
  return "";
}

void print_table() {
  std::printf("%-18s %-9s %-7s %s\n", "METHOD", "BASE", "INPUTS", "SUMMARY");
  for (const MethodDescriptor* m : all_methods())
    std::printf("%-18s %-9s %-7s %s\n", std::string(m->name).c_str(), base_string(m->base),
                inputs_string(*m).c_str(), std::string(m->summary).c_str());
  std::printf("\n'weld methods NAME' shows a method's formula, paper and parameters.\n");
}

void print_method(const MethodDescriptor& m) {
  std::printf("%s: %s\n\n  %s\n\n", std::string(m.name).c_str(), std::string(m.pretty_name).c_str(),
              std::string(m.formula).c_str());
  std::printf("paper: %s\n       %s\n", std::string(m.paper).c_str(), std::string(m.url).c_str());
  std::printf("base model: %s; inputs: %s\n\nparameters:\n", base_string(m.base), inputs_string(m).c_str());
  for (const ParamDef& p : m.params) {
    const std::string def = p.required ? "required" : fmt::format("default {:g}", p.default_value);
    std::printf("  %-10s %-9s %-12s %s\n", std::string(p.name).c_str(),
                p.scope == ParamScope::kGlobal ? "global" : "per-model", def.c_str(),
                std::string(p.help).c_str());
  }
}

}  // namespace

CommandAction setup_methods(CLI::App& command) {
  auto name = std::make_shared<std::string>();
  command.add_option("name", *name, "a method to describe");
  return [name] {
    if (name->empty()) {
      print_table();
    } else {
      print_method(find_method(*name));
    }
    return 0;
  };
}

}  // namespace weld
