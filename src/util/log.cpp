#include "util/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

namespace weld {
namespace {
std::atomic<Verbosity> g_verbosity{Verbosity::kNormal};
std::mutex g_stderr_mutex;
}  // namespace

void set_verbosity(Verbosity v) { g_verbosity = v; }
Verbosity verbosity() { return g_verbosity; }

void log_line(Verbosity level, std::string_view text) {
  if (verbosity() < level) return;
  std::lock_guard lock(g_stderr_mutex);
  std::fprintf(stderr, "%.*s\n", static_cast<int>(text.size()), text.data());
}

}  // namespace weld
