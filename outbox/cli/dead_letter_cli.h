// `pantau-outbox`: list and replay dead letters, show outbox stats and
// clean up, against a SQLite file or a PostgreSQL database.
//
//   pantau-outbox --db app.db dead list [--limit 100] [--after ID] [--json]
//   pantau-outbox --db postgresql://... dead replay ID... | --all
//   pantau-outbox --db app.db stats
//   pantau-outbox --db app.db cleanup [--retention 24h] [--inbox-window 30m]
//
// --db takes a PostgreSQL URI (postgres:// or postgresql://), a libpq
// key=value string (containing "host=" or "dbname="), or a SQLite path
// (optionally prefixed "sqlite:"), which must exist.
//
// Thread safety: not thread-safe (a program's main).
#ifndef PANTAU_OUTBOX_CLI_DEAD_LETTER_CLI_H_
#define PANTAU_OUTBOX_CLI_DEAD_LETTER_CLI_H_

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "pantau/outbox/store.h"

namespace pantau::outbox::cli {

// Opens the store named by a --db value (see above).
absl::StatusOr<std::unique_ptr<RelayStore>> OpenStore(const std::string& db);

// Runs the command line; returns the process exit code (0 ok, 1 error,
// 2 usage). Output goes to `out`, diagnostics to `err`.
int Run(int argc, const char* const* argv, std::ostream& out,
        std::ostream& err);

}  // namespace pantau::outbox::cli

#endif  // PANTAU_OUTBOX_CLI_DEAD_LETTER_CLI_H_
