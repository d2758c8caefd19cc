// Small RAII helpers over the SQLite C API that turn its result codes into
// absl::Status with the statement's context. Internal to the outbox.
//
// Thread safety: as the connection they wrap (one thread at a time).
#ifndef PANTAU_OUTBOX_SRC_SQLITE_UTIL_H_
#define PANTAU_OUTBOX_SRC_SQLITE_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pantau::outbox::internal {

// Maps a SQLite result code plus the connection's message to a Status.
absl::Status SqliteError(sqlite3* db, int rc, std::string_view what);
// Runs one or more statements without results.
absl::Status SqliteExec(sqlite3* db, const char* sql);

// A prepared statement, finalized on destruction.
class Stmt {
 public:
  Stmt() = default;
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  absl::Status Prepare(sqlite3* db, const char* sql);
  sqlite3_stmt* get() const { return stmt_; }

  void BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void BindText(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  void BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_TRANSIENT);
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false, else error.
  absl::StatusOr<bool> Step();
  // Steps to completion, ignoring rows.
  absl::Status Run();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string Text(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace pantau::outbox::internal

#endif  // PANTAU_OUTBOX_SRC_SQLITE_UTIL_H_
