// Helpers shared by the outbox unit tests: a temporary directory and an
// application-side SQLite connection with a business table.
//
// Thread safety: none; test-only.
#ifndef PANTAU_OUTBOX_SRC_TEST_UTIL_H_
#define PANTAU_OUTBOX_SRC_TEST_UTIL_H_

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "pantau/outbox/sqlite_store.h"

namespace pantau::outbox::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "outbox_test_XXXXXX")
            .string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const {
    return (std::filesystem::path(path_) / name).string();
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// An application connection with the outbox schema and an `orders` table.
inline sqlite3* OpenAppDb(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  EXPECT_TRUE(ConfigureSqliteConnection(db, absl::Seconds(5)).ok());
  EXPECT_TRUE(MigrateSqlite(db).ok());
  EXPECT_EQ(sqlite3_exec(db,
                         "CREATE TABLE IF NOT EXISTS orders(id TEXT PRIMARY "
                         "KEY, n INTEGER NOT NULL DEFAULT 0)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  return db;
}

inline int64_t QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int64_t v = -1;
  if (sqlite3_step(s) == SQLITE_ROW) v = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return v;
}

inline void Exec(sqlite3* db, const std::string& sql) {
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << " in " << sql;
}

}  // namespace pantau::outbox::testing

#endif  // PANTAU_OUTBOX_SRC_TEST_UTIL_H_
