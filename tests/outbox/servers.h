// Real servers for the outbox integration tests: a throwaway PostgreSQL
// cluster and a JetStream-enabled nats-server, each in a temporary
// directory on a free loopback port, stopped (and deleted) afterwards.
//
// Start* return NotFound/FailedPrecondition when the server binary is not
// installed (or PostgreSQL cannot run as this user); tests turn that into
// GTEST_SKIP. Nothing here waits without a deadline.
//
// Thread safety: none; test-only.
#ifndef PANTAU_TESTS_OUTBOX_SERVERS_H_
#define PANTAU_TESTS_OUTBOX_SERVERS_H_

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pantau::outbox::testing {

// A free TCP port on 127.0.0.1 (bound and released).
int FreePort();
// A fresh temporary directory (not removed automatically).
std::string MakeTempDir(const std::string& prefix);
// A temporary directory removed with everything in it on destruction.
class ScopedTempDir {
 public:
  explicit ScopedTempDir(const std::string& prefix)
      : path_(MakeTempDir(prefix)) {}
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};
// Spawns argv[0] with arguments; stdout/stderr go to `log` when not empty.
// The child gets this process's environment plus `env` ("NAME=value"
// entries, overriding a variable of the same name).
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& log = "",
                            const std::vector<std::string>& env = {});
// Waits for `pid` to exit, at most `timeout`; then SIGKILLs it.
int WaitOrKill(pid_t pid, absl::Duration timeout);
// True when something accepts TCP connections on 127.0.0.1:port.
bool PortOpen(int port);

class NatsServer {
 public:
  // `env`: more environment for the server ("NAME=value"), e.g. the Go
  // runtime's GOMAXPROCS; kept for Restart.
  static absl::StatusOr<std::unique_ptr<NatsServer>> Start(
      std::vector<std::string> env = {});
  ~NatsServer();
  std::string url() const;
  int port() const { return port_; }
  // SIGKILLs the server (its store stays) / starts it again on the same
  // port and store.
  void Kill();
  absl::Status Restart();

 private:
  std::string dir_;
  std::vector<std::string> env_;
  int port_ = 0;
  pid_t pid_ = -1;
};

class Postgres {
 public:
  // `extra_options`: more postgres command-line settings ("-c name=value
  // ..."), appended to the defaults.
  static absl::StatusOr<std::unique_ptr<Postgres>> Start(
      const std::string& extra_options = "");
  ~Postgres();
  // A libpq connection string for a new empty database.
  absl::StatusOr<std::string> NewDatabase();
  int port() const { return port_; }

 private:
  std::string dir_;
  int port_ = 0;
  int next_db_ = 0;
};

// One cluster per test binary, started on first use and stopped at exit.
absl::StatusOr<Postgres*> SharedPostgres();

}  // namespace pantau::outbox::testing

#endif  // PANTAU_TESTS_OUTBOX_SERVERS_H_
