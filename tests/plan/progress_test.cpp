#include "plan/progress.h"

#include <gtest/gtest.h>

namespace weld {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RecentRate, NeedsTwoSamplesApart) {
  RecentRate rate(seconds(3));
  const std::chrono::steady_clock::time_point start{};
  EXPECT_EQ(rate.add(start, 100), 0.0);
  EXPECT_EQ(rate.add(start, 200), 0.0);  // no time between them: no rate, and no NaN
  EXPECT_EQ(rate.add(start + milliseconds(500), 300), 400.0);
}

TEST(RecentRate, IsTheRateOfTheLastWindowNotOfTheWholeJob) {
  RecentRate rate(seconds(3));
  const std::chrono::steady_clock::time_point start{};
  std::uint64_t total = 0;
  double last = rate.add(start, 0);
  // 1 GB/s for 10 s, sampled every 100 ms.
  for (int k = 1; k <= 100; ++k) {
    total += 100'000'000;
    last = rate.add(start + milliseconds(100 * k), total);
  }
  EXPECT_NEAR(last, 1e9, 1e6);
  // Then 0.1 GB/s for 5 s: the average since the start is 0.73 GB/s, the last 3 s ran at 0.1.
  for (int k = 101; k <= 150; ++k) {
    total += 10'000'000;
    last = rate.add(start + milliseconds(100 * k), total);
  }
  EXPECT_NEAR(last, 1e8, 1e6);
}

TEST(RecentRate, SpansAtLeastAWindowWhenSamplesAreSparse) {
  // A log's line every 2 s with a 3 s window: the rate spans the two last intervals.
  RecentRate rate(seconds(3));
  const std::chrono::steady_clock::time_point start{};
  rate.add(start, 0);
  rate.add(start + seconds(2), 2'000);
  rate.add(start + seconds(4), 6'000);
  EXPECT_DOUBLE_EQ(rate.add(start + seconds(6), 12'000), 10'000.0 / 4.0);
}

}  // namespace
}  // namespace weld
