// weld's entry point: the one place that catches errors and prints them.
// Exit status: 0 success, 1 failure (bad input, I/O), 2 bad usage.
#include <cstdio>

#include "cli/commands.h"
#include "util/error.h"

int main(int argc, char** argv) {
  try {
    return weld::run_cli(argc, argv);
  } catch (const weld::UsageError& e) {
    std::fprintf(stderr, "weld: error: %s\nRun 'weld --help' for usage.\n", e.what());
    return 2;
  } catch (const weld::Error& e) {
    std::fprintf(stderr, "weld: error: %s\n", e.what());
    if (!e.detail().empty()) std::fprintf(stderr, "%s\n", e.detail().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "weld: error: %s\n", e.what());
    return 1;
  }
}
