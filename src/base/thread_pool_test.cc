#include "base/thread_pool.h"

#include <atomic>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace pantau::base {
namespace {

TEST(ThreadPool, RunsEveryTaskBeforeShutdownReturns) {
  std::atomic<int> done{0};
  {
    ThreadPool pool(3, "test");
    for (int i = 0; i < 1000; ++i) pool.Schedule([&] { done++; });
  }  // destructor drains
  EXPECT_EQ(done.load(), 1000);
}

TEST(ThreadPool, TasksRunConcurrently) {
  ThreadPool pool(2, "test");
  absl::Notification a_started, b_started;
  // Each task waits for the other: passes only if both run at once.
  pool.Schedule([&] {
    a_started.Notify();
    b_started.WaitForNotification();
  });
  pool.Schedule([&] {
    b_started.Notify();
    a_started.WaitForNotification();
  });
  pool.Shutdown();
  EXPECT_TRUE(a_started.HasBeenNotified() && b_started.HasBeenNotified());
}

TEST(ThreadPool, TaskMayScheduleMore) {
  std::atomic<int> done{0};
  ThreadPool pool(1, "test");
  absl::Notification finished;
  pool.Schedule([&] {
    pool.Schedule([&] {
      done++;
      finished.Notify();
    });
  });
  finished.WaitForNotification();
  pool.Shutdown();
  EXPECT_EQ(done.load(), 1);
  pool.Shutdown();  // idempotent
}

}  // namespace
}  // namespace pantau::base
