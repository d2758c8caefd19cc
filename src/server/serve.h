// `pantau serve`: resolves options, starts the Server, and runs until
// SIGINT or SIGTERM (graceful stop) while SIGHUP reloads the configuration.
//
// Thread safety: call once, from main().
#ifndef PANTAU_SERVER_SERVE_H_
#define PANTAU_SERVER_SERVE_H_

#include <string>
#include <vector>

#include "server/resolve.h"

namespace pantau::server {

// Returns the process exit code: 0 after a clean stop, 1 when start-up
// failed (the reason is logged).
int RunServe(const std::string& config_file,
             const std::vector<FlagOverride>& flags);

}  // namespace pantau::server

#endif  // PANTAU_SERVER_SERVE_H_
