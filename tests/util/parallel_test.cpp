#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <vector>

#include "util/parallel.h"

namespace weld {
namespace {

TEST(ParallelFor, RunsEveryTaskOnce) {
  std::vector<std::atomic<int>> runs(1000);
  parallel_for(runs.size(), 4, [&](std::size_t task, unsigned) { ++runs[task]; });
  for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
}

TEST(ParallelFor, RethrowsATaskErrorInTheCaller) {
  try {
    parallel_for(100, 2, [&](std::size_t task, unsigned) {
      if (task == 3) throw std::runtime_error("boom");
    });
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
}

TEST(ParallelFor, ZeroTasksIsFine) {
  parallel_for(0, 3, [](std::size_t, unsigned) { FAIL(); });
}

}  // namespace
}  // namespace weld
