// Progress of a long job on stderr: a redrawn bar when stderr is a terminal
//   [#########.........] tensors 412/1234  3.10 GB/7.50 GB  1.90 GB/s  ETA 2s
// and a plain line every 2 seconds otherwise (logs, CI). Silent with -q. The rate is that of
// the last few seconds while the job runs (and the ETA goes by it), the whole job's at the end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

namespace weld {

// Bytes per second over about the last `window`: what a job does now, which an average since
// its start hides once it slows down (a cold page cache, a full disk) or speeds up.
class RecentRate {
 public:
  explicit RecentRate(std::chrono::steady_clock::duration window) : window_(window) {}
  // Records that `total` bytes were done by `at` (times non-decreasing) and returns the rate
  // since the newest sample at least a window older (or the oldest), 0 before two samples.
  double add(std::chrono::steady_clock::time_point at, std::uint64_t total);

 private:
  struct Sample {
    std::chrono::steady_clock::time_point at;
    std::uint64_t total;
  };
  std::chrono::steady_clock::duration window_;
  std::deque<Sample> samples_;
};

class Progress {
 public:
  // `total_bytes` is the work measured in bytes read plus written.
  Progress(std::string label, std::uint64_t total_bytes, std::size_t total_items);

  // Safe to call from several threads.
  void add(std::uint64_t bytes, std::size_t items_finished);
  // Prints the final state once.
  void finish();

 private:
  void draw(bool final);

  std::string label_;
  std::uint64_t total_bytes_;
  std::size_t total_items_;
  std::atomic<std::uint64_t> bytes_{0};
  std::atomic<std::size_t> items_{0};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  RecentRate recent_;
  bool terminal_;
  bool finished_ = false;
  std::mutex mutex_;
};

// "1.23 GB" (decimal units, as shard sizes are given).
std::string format_bytes(std::uint64_t bytes);

}  // namespace weld
