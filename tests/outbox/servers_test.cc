// The test helper's process spawning: a server it starts must not inherit
// this process's descriptors (a bench run under `flock` would otherwise
// leave the shared lock held by an orphaned nats-server or postgres).
#include "servers.h"

#include <fcntl.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pantau::outbox {
namespace {

TEST(Spawn, ChildInheritsNoDescriptorsBeyondStdio) {
  // Opened without O_CLOEXEC, as flock(1) passes its lock to its child.
  int fd = open("/dev/null", O_RDONLY);
  ASSERT_GE(fd, 3);
  ASSERT_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
  std::string probe = absl::StrCat("test -e /proc/self/fd/", fd);
  // The shell itself is the spawned child: exit 1 means the fd is closed.
  auto pid = testing::Spawn({"/bin/sh", "-c", probe});
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(testing::WaitOrKill(*pid, absl::Seconds(10)), 1);
  // stdio stays: the probe itself works.
  auto stdio = testing::Spawn({"/bin/sh", "-c", "test -e /proc/self/fd/2"});
  ASSERT_TRUE(stdio.ok()) << stdio.status();
  EXPECT_EQ(testing::WaitOrKill(*stdio, absl::Seconds(10)), 0);
  close(fd);
}

}  // namespace
}  // namespace pantau::outbox
