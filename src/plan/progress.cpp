#include "plan/progress.h"

#include <unistd.h>

#include <cstdio>

#include "util/log.h"

namespace weld {

namespace {
// Redrawing a bar more often than this costs more than it tells; a log gets a line at most
// this often, so a job of a few seconds logs nothing but its summary.
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr auto kLogInterval = std::chrono::seconds(2);
constexpr int kBarWidth = 24;
// The live rate's window: long enough to smooth the bursts of a batch of writes, short
// enough to show a change within a few seconds.
constexpr auto kRateWindow = std::chrono::seconds(3);
}  // namespace

double RecentRate::add(std::chrono::steady_clock::time_point at, std::uint64_t total) {
  samples_.push_back({at, total});
  // Keep one sample at least a window old, as the start of the span the rate is taken over.
  while (samples_.size() > 2 && at - samples_[1].at >= window_) samples_.pop_front();
  const Sample& from = samples_.front();
  const double seconds = std::chrono::duration<double>(at - from.at).count();
  return seconds > 0 ? static_cast<double>(total - from.total) / seconds : 0.0;
}

std::string format_bytes(std::uint64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1e9) return fmt::format("{:.2f} GB", b / 1e9);
  if (b >= 1e6) return fmt::format("{:.1f} MB", b / 1e6);
  if (b >= 1e3) return fmt::format("{:.1f} kB", b / 1e3);
  return fmt::format("{} B", bytes);
}

Progress::Progress(std::string label, std::uint64_t total_bytes, std::size_t total_items)
    : label_(std::move(label)),
      total_bytes_(total_bytes),
      total_items_(total_items),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_),
      recent_(kRateWindow),
      terminal_(::isatty(STDERR_FILENO) == 1 && verbosity() >= Verbosity::kNormal) {
  recent_.add(start_, 0);
}

void Progress::add(std::uint64_t bytes, std::size_t items_finished) {
  bytes_ += bytes;
  items_ += items_finished;
  if (verbosity() < Verbosity::kNormal) return;
  std::lock_guard lock(mutex_);
  if (finished_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < (terminal_ ? kRedrawInterval : kLogInterval)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  if (!terminal_) return;  // in a log the command's own summary line closes the job
  std::lock_guard lock(mutex_);
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void Progress::draw(bool final) {
  const auto now = std::chrono::steady_clock::now();
  const std::uint64_t done = bytes_;
  // While it runs, the rate of the last few seconds; at the end, the whole job's.
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate =
      final ? (seconds > 0 ? static_cast<double>(done) / seconds : 0.0) : recent_.add(now, done);
  const double fraction = total_bytes_ ? static_cast<double>(done) / static_cast<double>(total_bytes_) : 1.0;
  std::string eta;
  if (!final && rate > 0)
    eta = fmt::format("  ETA {:.0f}s", static_cast<double>(total_bytes_ - done) / rate);
  const std::string stats =
      fmt::format("{} {}/{}  {}/{}  {}/s{}", label_, items_.load(), total_items_,
                  format_bytes(done), format_bytes(total_bytes_), format_bytes(static_cast<std::uint64_t>(rate)), eta);
  if (!terminal_) {
    std::fprintf(stderr, "%s\n", stats.c_str());
    return;
  }
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::fprintf(stderr, "\r[%s%s] %s\033[K%s", std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(kBarWidth - filled), '.').c_str(), stats.c_str(),
               final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace weld
