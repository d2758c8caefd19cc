// Resolves the effective Options from defaults, the config file and the
// flags given on the command line, in that order of precedence. Used at
// start-up and again on every reload (SIGHUP or POST /-/reload), so a
// reload re-reads the file but keeps what the command line said.
//
// Thread safety: pure functions.
#ifndef PANTAU_SERVER_RESOLVE_H_
#define PANTAU_SERVER_RESOLVE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "server/options.h"

namespace pantau::server {

// A flag given on the command line: its OptionSpec::flag and raw value.
using FlagOverride = std::pair<std::string, std::string>;

absl::StatusOr<Options> ResolveOptions(const std::string& config_file,
                                       const std::vector<FlagOverride>& flags);

}  // namespace pantau::server

#endif  // PANTAU_SERVER_RESOLVE_H_
