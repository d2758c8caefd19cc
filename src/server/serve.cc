#include "server/serve.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include "base/log.h"
#include "server/server.h"
#include "server/version.h"

namespace pantau::server {

int RunServe(const std::string& config_file,
             const std::vector<FlagOverride>& flags) {
  // Block the signals in every thread (threads inherit the mask), and take
  // them synchronously here with sigwait: no async-signal-safety hazards.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto options = ResolveOptions(config_file, flags);
  if (!options.ok()) {
    PANTAU_LOG(kError, "error loading configuration",
               {{"err", options.status()}});
    return 1;
  }
  PANTAU_LOG(kInfo, "starting pantau",
             {{"version", kVersion}, {"revision", kRevision}});
  Server server(*std::move(options), flags);
  // POST /-/quit ends up in the same place as Ctrl-C.
  server.set_on_quit([] { ::kill(::getpid(), SIGTERM); });
  absl::Status started = server.Start();
  if (!started.ok()) {
    PANTAU_LOG(kError, "cannot start", {{"err", started}});
    return 1;
  }
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGHUP) {
      (void)server.Reload();  // logs its own outcome
      continue;
    }
    PANTAU_LOG(kWarn, "received stop signal, exiting gracefully...",
               {{"signal", sig == SIGINT ? "interrupt" : "terminated"}});
    break;
  }
  server.Shutdown();
  return 0;
}

}  // namespace pantau::server
