#include "cli/token_progress.h"

#include <unistd.h>

#include <cstdio>

#include "util/log.h"

namespace weld {

TokenProgress::TokenProgress(std::string label, std::string unit)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      start_(std::chrono::steady_clock::now()),
      last_(start_),
      terminal_(::isatty(STDERR_FILENO) != 0) {}

void TokenProgress::update(std::size_t done, std::size_t total) {
  done_ = done;
  total_ = total;
  const auto now = std::chrono::steady_clock::now();
  const auto every = terminal_ ? std::chrono::milliseconds(100) : std::chrono::seconds(2);
  if (now - last_ < every) return;
  last_ = now;
  draw(false);
}

void TokenProgress::finish() {
  if (!terminal_ && drawn_done_ == done_ && drawn_done_ != 0) return;  // already shown
  draw(true);
}

void TokenProgress::draw(bool final) {
  if (verbosity() < Verbosity::kNormal) return;
  drawn_done_ = done_;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done_) / seconds : 0.0;
  std::fprintf(stderr, "%s%s: %zu/%zu %s  %.1f %s/s%s", terminal_ ? "\r\033[K" : "", label_.c_str(),
               done_, total_, unit_.c_str(), rate, unit_.c_str(), terminal_ && !final ? "" : "\n");
  std::fflush(stderr);
}

}  // namespace weld
