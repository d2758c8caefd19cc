#include "metrics/promql/parallel.h"

#include <atomic>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace pantau::metrics::promql {
namespace {

TEST(ParallelFor, EveryItemOnceFromConcurrentCallers) {
  // Callers share the kept helper threads; each call still runs each of
  // its items exactly once and returns only when they have finished.
  constexpr int kCallers = 6;
  constexpr size_t kItems = 500;
  std::vector<std::vector<std::atomic<int>>> runs(kCallers);
  for (auto& r : runs) r = std::vector<std::atomic<int>>(kItems);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 20; ++round) {
        std::atomic<bool> stop{false};
        absl::Status s = ParallelFor(
            kItems, 4, &stop,
            [&](size_t i, int worker) {
              EXPECT_GE(worker, 0);
              EXPECT_LT(worker, 4);
              runs[c][i].fetch_add(1);
            },
            [] { return absl::OkStatus(); });
        EXPECT_TRUE(s.ok());
        for (size_t i = 0; i < kItems; ++i) {
          ASSERT_EQ(runs[c][i].load(), round + 1) << "caller " << c;
        }
      }
    });
  }
  for (std::thread& t : callers) t.join();
}

TEST(ParallelFor, StopAndPollErrorEndTheLoop) {
  std::atomic<bool> stop{false};
  std::atomic<int> ran{0};
  absl::Status s = ParallelFor(
      100000, 3, &stop,
      [&](size_t i, int) {
        ran.fetch_add(1);
        if (i == 10) stop.store(true);
      },
      [] { return absl::OkStatus(); });
  EXPECT_TRUE(s.ok());
  EXPECT_LT(ran.load(), 100000);

  std::atomic<bool> stop2{false};
  int polls = 0;
  s = ParallelFor(
      100000, 1, &stop2, [&](size_t, int) {},
      [&] {
        return ++polls > 5 ? absl::CancelledError("gone") : absl::OkStatus();
      });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_TRUE(stop2.load());
}

}  // namespace
}  // namespace pantau::metrics::promql
