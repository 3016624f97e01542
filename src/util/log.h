// Messages for the person running weld, on stderr. -q shows only errors; -v adds detail.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace weld {

enum class Verbosity { kQuiet = 0, kNormal = 1, kVerbose = 2 };

void set_verbosity(Verbosity v);
Verbosity verbosity();

void log_line(Verbosity level, std::string_view text);

template <typename... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= Verbosity::kNormal)
    log_line(Verbosity::kNormal, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void log_verbose(fmt::format_string<Args...> format, Args&&... args) {
  if (verbosity() >= Verbosity::kVerbose)
    log_line(Verbosity::kVerbose, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace weld
