#include "servers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

extern char** environ;

namespace pantau::outbox::testing {
namespace {

constexpr char kPgBin[] = "/usr/lib/postgresql/15/bin";

bool Executable(const std::string& path) {
  return access(path.c_str(), X_OK) == 0;
}

std::string FindInPath(const std::string& name) {
  for (const char* dir :
       {"/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin", "/bin"}) {
    std::string p = absl::StrCat(dir, "/", name);
    if (Executable(p)) return p;
  }
  return "";
}

// Runs a command to completion (bounded), returning its exit code.
absl::StatusOr<int> Run(const std::vector<std::string>& argv,
                        const std::string& log, absl::Duration timeout) {
  PANTAU_ASSIGN_OR_RETURN(pid_t pid, Spawn(argv, log));
  return WaitOrKill(pid, timeout);
}

}  // namespace

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl =
      (std::filesystem::temp_directory_path() / (prefix + "_XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code ec;
  if (!path_.empty()) std::filesystem::remove_all(path_, ec);
}

absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& log,
                            const std::vector<std::string>& env) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
  }
  // The child gets stdin/stdout/stderr only. Anything else this process
  // holds (the bench lock's descriptor under `flock`, database files,
  // sockets) would otherwise stay open in a server that may outlive us,
  // e.g. an orphaned nats-server keeping /tmp/pantau-bench.lock held.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    // "NAME=", or the whole entry when it has no '='.
    std::string_view name = var.substr(0, var.find('=') + 1);
    if (name.empty()) name = var;
    bool overridden = std::any_of(env.begin(), env.end(), [&](auto& x) {
      return std::string_view(x).substr(0, name.size()) == name;
    });
    if (!overridden) envp.push_back(*e);
  }
  envp.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &fa, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("spawn ", argv[0], ": ", strerror(rc)));
  }
  return pid;
}

int WaitOrKill(pid_t pid, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (absl::Now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (r < 0) return -1;
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

absl::StatusOr<std::unique_ptr<NatsServer>> NatsServer::Start(
    std::vector<std::string> env) {
  if (FindInPath("nats-server").empty()) {
    return absl::NotFoundError("nats-server is not installed");
  }
  auto s = std::unique_ptr<NatsServer>(new NatsServer());
  s->dir_ = MakeTempDir("outbox_nats");
  s->port_ = FreePort();
  s->env_ = std::move(env);
  PANTAU_RETURN_IF_ERROR(s->Restart());
  return s;
}

absl::Status NatsServer::Restart() {
  PANTAU_ASSIGN_OR_RETURN(
      pid_, Spawn({FindInPath("nats-server"), "-js", "-a", "127.0.0.1", "-p",
                   absl::StrCat(port_), "-sd", dir_ + "/store"},
                  dir_ + "/log", env_));
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    if (PortOpen(port_)) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("nats-server did not start");
}

void NatsServer::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

NatsServer::~NatsServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    WaitOrKill(pid_, absl::Seconds(5));
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string NatsServer::url() const {
  return absl::StrCat("nats://127.0.0.1:", port_);
}

absl::StatusOr<std::unique_ptr<Postgres>> Postgres::Start(
    const std::string& extra_options) {
  std::string bin = kPgBin;
  if (!Executable(bin + "/initdb") || !Executable(bin + "/pg_ctl")) {
    return absl::NotFoundError(
        "PostgreSQL 15 server binaries are not installed");
  }
  passwd* pw = getpwnam("postgres");
  bool as_root = geteuid() == 0;
  if (as_root && (pw == nullptr || FindInPath("runuser").empty())) {
    return absl::FailedPreconditionError(
        "running as root without a postgres user to run PostgreSQL as");
  }
  auto pg = std::unique_ptr<Postgres>(new Postgres());
  pg->dir_ = MakeTempDir("outbox_pg");
  pg->port_ = FreePort();
  if (as_root && chown(pg->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return absl::InternalError("chown of the PostgreSQL directory failed");
  }
  auto as_pg = [&](std::vector<std::string> argv) {
    if (!as_root) return argv;
    std::vector<std::string> out = {FindInPath("runuser"), "-u", "postgres",
                                    "--"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  };
  std::string log = pg->dir_ + "/setup.log";
  PANTAU_ASSIGN_OR_RETURN(
      int rc, Run(as_pg({bin + "/initdb", "-D", pg->dir_ + "/data", "-A",
                         "trust", "-U", "postgres", "--no-sync"}),
                  log, absl::Seconds(60)));
  if (rc != 0) return absl::InternalError("initdb failed; see " + log);
  PANTAU_ASSIGN_OR_RETURN(
      rc,
      Run(as_pg({bin + "/pg_ctl", "-D", pg->dir_ + "/data", "-o",
                 absl::StrCat("-p ", pg->port_, " -k ", pg->dir_,
                              " -c listen_addresses=127.0.0.1 -c fsync=off"
                              " -c synchronous_commit=off"
                              " -c max_connections=200 ",
                              extra_options),
                 "-l", pg->dir_ + "/server.log", "-w", "-t", "30", "start"}),
          log, absl::Seconds(40)));
  if (rc != 0) return absl::InternalError("pg_ctl start failed; see " + log);
  return pg;
}

Postgres::~Postgres() {
  std::vector<std::string> argv = {std::string(kPgBin) + "/pg_ctl",
                                   "-D",
                                   dir_ + "/data",
                                   "-m",
                                   "immediate",
                                   "-w",
                                   "-t",
                                   "20",
                                   "stop"};
  if (geteuid() == 0) {
    argv.insert(argv.begin(), {FindInPath("runuser"), "-u", "postgres", "--"});
  }
  Run(argv, dir_ + "/setup.log", absl::Seconds(30)).IgnoreError();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

absl::StatusOr<std::string> Postgres::NewDatabase() {
  std::string name = absl::StrCat("t", getpid(), "_", next_db_++);
  std::string base = absl::StrCat("host=127.0.0.1 port=", port_,
                                  " user=postgres connect_timeout=5");
  std::string psql = std::string(kPgBin) + "/psql";
  if (!Executable(psql)) psql = FindInPath("psql");
  PANTAU_ASSIGN_OR_RETURN(
      int rc, Run({psql, "-q", "-d", base + " dbname=postgres", "-c",
                   absl::StrCat("CREATE DATABASE ", name)},
                  dir_ + "/setup.log", absl::Seconds(30)));
  if (rc != 0) return absl::InternalError("CREATE DATABASE failed");
  return absl::StrCat(base, " dbname=", name);
}

absl::StatusOr<Postgres*> SharedPostgres() {
  // A function-local static is destroyed at normal exit, which stops the
  // cluster and deletes its directory.
  static absl::StatusOr<std::unique_ptr<Postgres>> pg = Postgres::Start();
  if (!pg.ok()) return pg.status();
  return pg->get();
}

}  // namespace pantau::outbox::testing
