// libpq helpers: results freed by RAII, errors as absl::Status with the
// server's SQLSTATE and message, binary result decoding. Internal.
//
// Thread safety: as the connection (one thread at a time).
#ifndef PANTAU_OUTBOX_SRC_PG_UTIL_H_
#define PANTAU_OUTBOX_SRC_PG_UTIL_H_

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace pantau::outbox::internal {

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// One statement parameter: text, or binary bytes (bytea).
struct PgParam {
  std::string_view value;
  bool binary = false;
};

// Runs `sql` with `params`; results come back in binary format when
// `binary_results`. Returns the result on PGRES_COMMAND_OK/TUPLES_OK.
absl::StatusOr<PgResult> PgExec(PGconn* conn, const char* sql,
                                const std::vector<PgParam>& params = {},
                                bool binary_results = false);

// Decoders for binary-format result cells.
int64_t PgInt8(const PGresult* r, int row, int col);
int32_t PgInt4(const PGresult* r, int row, int col);
std::string PgBytes(const PGresult* r, int row, int col);

}  // namespace pantau::outbox::internal

#endif  // PANTAU_OUTBOX_SRC_PG_UTIL_H_
