// The test helper's process spawning: a server it starts must not inherit
// this process's descriptors (a bench run under `flock` would otherwise
// leave the shared lock held by an orphaned nats-server or postgres).
#include "servers.h"

#include <fcntl.h>
#include <stdlib.h>
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

TEST(Spawn, ChildGetsTheExtraEnvironmentOverTheInheritedOne) {
  // The bench starts nats-server with GOMAXPROCS this way.
  setenv("PANTAU_SPAWN_TEST_A", "inherited", 1);
  setenv("PANTAU_SPAWN_TEST_B", "inherited", 1);
  auto pid = testing::Spawn(
      {"/bin/sh", "-c",
       "test \"$PANTAU_SPAWN_TEST_A\" = given && "
       "test \"$PANTAU_SPAWN_TEST_B\" = inherited && "
       "test \"$PANTAU_SPAWN_TEST_C\" = new"},
      "", {"PANTAU_SPAWN_TEST_A=given", "PANTAU_SPAWN_TEST_C=new"});
  ASSERT_TRUE(pid.ok()) << pid.status();
  EXPECT_EQ(testing::WaitOrKill(*pid, absl::Seconds(10)), 0);
  // Without extra entries the child sees this process's value.
  auto plain = testing::Spawn(
      {"/bin/sh", "-c", "test \"$PANTAU_SPAWN_TEST_A\" = inherited"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(testing::WaitOrKill(*plain, absl::Seconds(10)), 0);
  unsetenv("PANTAU_SPAWN_TEST_A");
  unsetenv("PANTAU_SPAWN_TEST_B");
}

}  // namespace
}  // namespace pantau::outbox
