#include "util/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace weld {

unsigned hardware_threads() { return std::max(1u, std::thread::hardware_concurrency()); }

void parallel_for(std::size_t n_tasks, unsigned n_workers,
                  const std::function<void(std::size_t, unsigned)>& fn) {
  n_workers = static_cast<unsigned>(std::clamp<std::size_t>(n_workers, 1, std::max<std::size_t>(n_tasks, 1)));
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;

  auto work = [&](unsigned worker) {
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t task = next.fetch_add(1);
      if (task >= n_tasks) return;
      try {
        fn(task, worker);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        stop = true;
      }
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(n_workers - 1);
  for (unsigned w = 1; w < n_workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace weld
