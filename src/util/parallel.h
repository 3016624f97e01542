// parallel_for: runs fn(task, worker) for task in [0, n_tasks) on n_workers threads.
//
// Tasks are handed out in index order from one atomic counter, so the work each task does
// must not depend on which worker runs it (weld's outputs are identical for any thread
// count). The first exception thrown by any task stops the hand-out of further tasks and is
// rethrown in the caller once every worker has stopped.
#pragma once

#include <cstddef>
#include <functional>

namespace weld {

void parallel_for(std::size_t n_tasks, unsigned n_workers,
                  const std::function<void(std::size_t task, unsigned worker)>& fn);

// The number of hardware threads (at least 1).
unsigned hardware_threads();

}  // namespace weld
