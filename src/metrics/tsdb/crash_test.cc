// THE kill -9 test: a child process (tsdb_crash_writer) appends and commits
// continuously and reports acknowledged commits through a pipe; it is
// SIGKILLed at random moments, and after each kill the store is reopened
// and every acknowledged sample must be there.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "base/env.h"
#include "gtest/gtest.h"
#include "metrics/tsdb/db.h"
#include "metrics/tsdb/test_util.h"

namespace pantau::metrics::tsdb {
namespace {

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;
};

Child Spawn(const std::string& dir) {
  int fds[2];
  EXPECT_EQ(pipe(fds), 0);
  Child c;
  c.pid = fork();
  if (c.pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl(TSDB_CRASH_WRITER, TSDB_CRASH_WRITER, dir.c_str(), nullptr);
    _exit(127);
  }
  close(fds[1]);
  c.out = fdopen(fds[0], "r");
  return c;
}

TEST(CrashTest, KillNineNeverLosesAcknowledgedSamples) {
  char tmpl[] = "/tmp/pantau_crash_testXXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  // Removed on every exit path, failed assertions included.
  struct Cleanup {
    std::string path;
    ~Cleanup() { (void)base::Env::Default()->DeleteRecursively(path); }
  } cleanup{tmpl};
  const std::string dir = std::string(tmpl) + "/db";
  std::mt19937 rng(std::random_device{}());
  int64_t acked[2] = {-1, -1};
  constexpr int kRounds = 6;
  for (int round = 0; round < kRounds; ++round) {
    Child c = Spawn(dir);
    ASSERT_NE(c.out, nullptr);
    // Let it run for a random number of acknowledgements, then kill it at
    // a random moment shortly after.
    const int wait_for = 20 + static_cast<int>(rng() % 400);
    int seen = 0, th;
    long long i;
    while (seen < wait_for && std::fscanf(c.out, "%d %lld", &th, &i) == 2) {
      ASSERT_TRUE(th == 0 || th == 1);
      acked[th] = std::max<int64_t>(acked[th], i);
      ++seen;
    }
    ASSERT_EQ(seen, wait_for) << "writer died early in round " << round;
    usleep(rng() % 20000);
    ASSERT_EQ(kill(c.pid, SIGKILL), 0);
    // Acks printed before the kill still count.
    while (std::fscanf(c.out, "%d %lld", &th, &i) == 2) {
      acked[th] = std::max<int64_t>(acked[th], i);
    }
    std::fclose(c.out);
    int status;
    ASSERT_EQ(waitpid(c.pid, &status, 0), c.pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer failed in round " << round;

    Options o;
    o.dir = dir;
    o.block_duration = 60 * 1000;
    o.maintenance_interval = absl::ZeroDuration();
    o.retention_ms = 0;
    o.snapshot_on_close = false;
    auto db = DB::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    for (int t = 0; t < 2; ++t) {
      auto got = testing::Query(**db, {testing::Eq("__name__", "crash"),
                                       testing::Eq("t", std::to_string(t))});
      ASSERT_EQ(got.size(), acked[t] >= 0 ? 5u : 0u) << "round " << round;
      for (const auto& [series, samples] : got) {
        // Every acknowledged commit 0..acked[t] is there, in order, once.
        ASSERT_GE(static_cast<int64_t>(samples.size()), acked[t] + 1)
            << series << " round " << round;
        for (int64_t k = 0; k <= acked[t]; ++k) {
          ASSERT_EQ(samples[k].t, k * 1000) << series << " round " << round;
          ASSERT_EQ(samples[k].v, static_cast<double>(k));
        }
      }
    }
    (*db)->CrashForTesting();  // leave the directory as the child left it
  }
  EXPECT_GT(acked[0] + acked[1], 100);
}

}  // namespace
}  // namespace pantau::metrics::tsdb
