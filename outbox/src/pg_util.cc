#include "pg_util.h"

#include <arpa/inet.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace pantau::outbox::internal {

absl::StatusOr<PgResult> PgExec(PGconn* conn, const char* sql,
                                const std::vector<PgParam>& params,
                                bool binary_results) {
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
  for (const PgParam& p : params) {
    values.push_back(p.value.data());
    lengths.push_back(static_cast<int>(p.value.size()));
    formats.push_back(p.binary ? 1 : 0);
  }
  // Text parameters must be NUL-terminated for libpq; copy them.
  std::vector<std::string> text_copies;
  text_copies.reserve(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].binary) {
      text_copies.emplace_back(params[i].value);
      values[i] = text_copies.back().c_str();
    }
  }
  // PQexec (simple protocol) allows several statements, as migrations need.
  PgResult r(params.empty() && !binary_results
                 ? PQexec(conn, sql)
                 : PQexecParams(conn, sql, static_cast<int>(params.size()),
                                nullptr, values.data(), lengths.data(),
                                formats.data(), binary_results ? 1 : 0));
  ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return r;
  const char* state =
      r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = absl::StrCat(
      "postgres: ", r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
    msg.pop_back();
  absl::StrAppend(&msg, " [", state ? state : "no sqlstate",
                  "] in: ", std::string(std::string_view(sql).substr(0, 120)));
  if (PQstatus(conn) == CONNECTION_BAD) return absl::UnavailableError(msg);
  if (state != nullptr) {
    std::string_view cls(state, 2);
    if (cls == "23") return absl::AlreadyExistsError(msg);
    if (cls == "40" || cls == "53" || cls == "57" || cls == "08") {
      return absl::UnavailableError(msg);
    }
    if (cls == "42" || cls == "22") return absl::InvalidArgumentError(msg);
  }
  return absl::InternalError(msg);
}

int64_t PgInt8(const PGresult* r, int row, int col) {
  if (PQgetlength(r, row, col) != 8) return 0;
  uint64_t v;
  std::memcpy(&v, PQgetvalue(r, row, col), 8);
  return static_cast<int64_t>(be64toh(v));
}

int32_t PgInt4(const PGresult* r, int row, int col) {
  if (PQgetlength(r, row, col) != 4) return 0;
  uint32_t v;
  std::memcpy(&v, PQgetvalue(r, row, col), 4);
  return static_cast<int32_t>(ntohl(v));
}

std::string PgBytes(const PGresult* r, int row, int col) {
  return std::string(PQgetvalue(r, row, col), PQgetlength(r, row, col));
}

}  // namespace pantau::outbox::internal
