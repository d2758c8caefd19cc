#include "pantau/outbox/sqlite_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "sqlite_util.h"

namespace pantau::outbox {
namespace {

using internal::SqliteError;
using internal::SqliteExec;
using internal::Stmt;

constexpr char kSchemaV1[] = R"sql(
CREATE TABLE IF NOT EXISTS pantau_outbox (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  payload BLOB NOT NULL,
  headers TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  delivered_at INTEGER);
CREATE INDEX IF NOT EXISTS pantau_outbox_pending
  ON pantau_outbox(seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS pantau_outbox_key
  ON pantau_outbox(key, seq) WHERE state = 0;
CREATE INDEX IF NOT EXISTS pantau_outbox_delivered
  ON pantau_outbox(delivered_at) WHERE state = 1;
CREATE TABLE IF NOT EXISTS pantau_inbox (
  consumer TEXT NOT NULL,
  message_id TEXT NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (consumer, message_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS pantau_inbox_processed
  ON pantau_inbox(processed_at);
)sql";

constexpr char kColumns[] =
    "seq, id, topic, key, type, payload, headers, created_at, attempts, "
    "next_attempt_at, last_error";

absl::StatusOr<Message> ReadRow(const Stmt& s) {
  Message m;
  m.id = s.Text(1);
  m.topic = s.Text(2);
  m.key = s.Text(3);
  m.type = s.Text(4);
  m.payload = s.Text(5);
  PANTAU_ASSIGN_OR_RETURN(m.headers, DecodeHeaders(s.Text(6)));
  m.created_at = absl::FromUnixMillis(s.Int(7));
  m.attempts = static_cast<int>(s.Int(8));
  m.next_attempt_at = absl::FromUnixMillis(s.Int(9));
  m.last_error = s.Text(10);
  return m;
}

// Runs `body` in BEGIN IMMEDIATE ... COMMIT, rolling back on error.
template <typename F>
absl::Status InWriteTx(sqlite3* db, F&& body) {
  PANTAU_RETURN_IF_ERROR(SqliteExec(db, "BEGIN IMMEDIATE"));
  absl::Status s = body();
  if (s.ok()) s = SqliteExec(db, "COMMIT");
  if (!s.ok()) sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

// Busy handler: SQLite's own busy timeout sleeps longer and longer, up to
// 100 ms between attempts, so a writer that just missed the lock waits far
// longer than the holder keeps it (a relay or producer transaction takes
// about a millisecond). Poll every 0.2 ms for the first 10 ms, then every
// millisecond, until the timeout (in `arg`, milliseconds) has passed.
int PollWriteLock(void* arg, int count) {
  int64_t timeout_ms = static_cast<int64_t>(reinterpret_cast<intptr_t>(arg));
  constexpr int kFast = 50;
  int64_t waited_us =
      count < kFast ? count * 200 : kFast * 200 + (count - kFast) * 1000;
  if (waited_us >= timeout_ms * 1000) return 0;
  usleep(count < kFast ? 200 : 1000);
  return 1;
}

}  // namespace

absl::Status ConfigureSqliteConnection(sqlite3* db,
                                       absl::Duration busy_timeout) {
  // The timeout travels in the handler's argument: the connection is the
  // application's, with no other place to keep it.
  int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(busy_timeout));
  sqlite3_busy_handler(db, &PollWriteLock,
                       reinterpret_cast<void*>(static_cast<intptr_t>(ms)));
  PANTAU_RETURN_IF_ERROR(SqliteExec(db, "PRAGMA journal_mode=WAL"));
  return SqliteExec(db, "PRAGMA synchronous=NORMAL");
}

absl::Status MigrateSqlite(sqlite3* db) {
  return InWriteTx(db, [&]() -> absl::Status {
    PANTAU_RETURN_IF_ERROR(
        SqliteExec(db,
                   "CREATE TABLE IF NOT EXISTS pantau_outbox_meta ("
                   "name TEXT PRIMARY KEY, value INTEGER NOT NULL)"));
    Stmt q;
    PANTAU_RETURN_IF_ERROR(q.Prepare(
        db, "SELECT value FROM pantau_outbox_meta WHERE name='schema'"));
    PANTAU_ASSIGN_OR_RETURN(bool row, q.Step());
    int64_t version = row ? q.Int(0) : 0;
    if (version > kSqliteSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "outbox schema version ", version, " is newer than this library (",
          kSqliteSchemaVersion, ")"));
    }
    if (version < 1) PANTAU_RETURN_IF_ERROR(SqliteExec(db, kSchemaV1));
    // Later versions add their steps here, each guarded by `version < n`.
    return SqliteExec(db,
                      "INSERT OR REPLACE INTO pantau_outbox_meta(name, value) "
                      "VALUES('schema', 1)");
  });
}

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(
    const std::string& path, absl::Duration busy_timeout) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
      nullptr);
  if (rc != SQLITE_OK) {
    absl::Status s = SqliteError(db, rc, absl::StrCat("open ", path));
    sqlite3_close_v2(db);
    return s;
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  PANTAU_RETURN_IF_ERROR(ConfigureSqliteConnection(db, busy_timeout));
  PANTAU_RETURN_IF_ERROR(MigrateSqlite(db));
  return store;
}

SqliteStore::~SqliteStore() {
  for (sqlite3_stmt* q : {scan_, lease_, done_, delete_, fail_, release_}) {
    sqlite3_finalize(q);
  }
  sqlite3_close_v2(db_);
}

absl::Status SqliteStore::Prepared(sqlite3_stmt** stmt, const char* sql) {
  if (*stmt != nullptr) {
    sqlite3_reset(*stmt);
    sqlite3_clear_bindings(*stmt);
    return absl::OkStatus();
  }
  int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt,
                              nullptr);
  if (rc != SQLITE_OK) {
    *stmt = nullptr;
    return SqliteError(db_, rc, "prepare");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Message>> SqliteStore::Claim(std::string_view owner,
                                                        int limit,
                                                        absl::Time now,
                                                        absl::Duration lease) {
  std::vector<Message> out;
  int64_t now_ms = absl::ToUnixMillis(now);
  int64_t until_ms = absl::ToUnixMillis(now + lease);
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    // One walk over the pending rows in sequence order decides the batch:
    // a row that is not due (retry later) or leased by another relay
    // blocks its key, and every later row of a blocked key is left out, so
    // the batch holds a prefix of each key's pending messages (store.h).
    // The walk stops at `limit` rows taken; within the write transaction
    // nothing changes underneath it.
    PANTAU_RETURN_IF_ERROR(Prepared(
        &scan_,
        "SELECT seq, key, next_attempt_at, lease_until FROM pantau_outbox "
        "WHERE state = 0 ORDER BY seq"));
    std::vector<int64_t> take;
    take.reserve(limit);
    absl::flat_hash_set<std::string> blocked;
    while (static_cast<int>(take.size()) < limit) {
      int rc = sqlite3_step(scan_);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "claim scan");
      const char* k =
          reinterpret_cast<const char*>(sqlite3_column_text(scan_, 1));
      absl::string_view key(k == nullptr ? "" : k,
                            sqlite3_column_bytes(scan_, 1));
      bool due = sqlite3_column_int64(scan_, 2) <= now_ms &&
                 sqlite3_column_int64(scan_, 3) <= now_ms;
      if (!blocked.empty() && blocked.contains(key)) continue;
      if (!due) {
        blocked.emplace(key);
        continue;
      }
      take.push_back(sqlite3_column_int64(scan_, 0));
    }
    sqlite3_reset(scan_);
    if (take.empty()) return absl::OkStatus();
    PANTAU_RETURN_IF_ERROR(Prepared(
        &lease_, absl::StrCat("UPDATE pantau_outbox SET lease_owner = ?1, "
                              "lease_until = ?2 WHERE seq = ?3 RETURNING ",
                              kColumns)
                     .c_str()));
    sqlite3_bind_text(lease_, 1, owner.data(), static_cast<int>(owner.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_int64(lease_, 2, until_ms);
    out.reserve(take.size());
    for (int64_t seq : take) {
      sqlite3_bind_int64(lease_, 3, seq);
      int rc = sqlite3_step(lease_);
      if (rc != SQLITE_ROW) {
        sqlite3_reset(lease_);
        return SqliteError(db_, rc, "claim lease");
      }
      Message m;
      auto text = [&](int col) {
        const void* p = sqlite3_column_blob(lease_, col);
        int n = sqlite3_column_bytes(lease_, col);
        return p == nullptr ? std::string()
                            : std::string(static_cast<const char*>(p), n);
      };
      m.id = text(1);
      m.topic = text(2);
      m.key = text(3);
      m.type = text(4);
      m.payload = text(5);
      auto headers = DecodeHeaders(text(6));
      if (!headers.ok()) {
        sqlite3_reset(lease_);
        return headers.status();
      }
      m.headers = *std::move(headers);
      m.created_at = absl::FromUnixMillis(sqlite3_column_int64(lease_, 7));
      m.attempts = static_cast<int>(sqlite3_column_int64(lease_, 8));
      m.next_attempt_at = absl::FromUnixMillis(sqlite3_column_int64(lease_, 9));
      m.last_error = text(10);
      // Step to the end so the UPDATE completes before the next row.
      rc = sqlite3_step(lease_);
      sqlite3_reset(lease_);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "claim lease");
      out.push_back(std::move(m));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status SqliteStore::Complete(std::string_view owner,
                                   const std::vector<Outcome>& outcomes,
                                   absl::Time now) {
  if (outcomes.empty()) return absl::OkStatus();
  return InWriteTx(db_, [&]() -> absl::Status {
    // Every statement checks the lease: a relay whose lease ran out must
    // not record over the relay that took the row since.
    PANTAU_RETURN_IF_ERROR(
        Prepared(&done_,
                 "UPDATE pantau_outbox SET state = 1, delivered_at = ?1, "
                 "attempts = attempts + 1, lease_owner = '', lease_until = 0 "
                 "WHERE id = ?2 AND state = 0 AND lease_owner = ?3"));
    PANTAU_RETURN_IF_ERROR(
        Prepared(&delete_,
                 "DELETE FROM pantau_outbox WHERE id = ?2 AND state = 0 "
                 "AND lease_owner = ?3"));
    PANTAU_RETURN_IF_ERROR(Prepared(
        &fail_,
        "UPDATE pantau_outbox SET state = ?1, attempts = attempts + 1, "
        "last_error = ?2, next_attempt_at = ?3, lease_owner = '', "
        "lease_until = 0 WHERE id = ?4 AND state = 0 AND lease_owner = ?5"));
    PANTAU_RETURN_IF_ERROR(
        Prepared(&release_,
                 "UPDATE pantau_outbox SET lease_owner = '', lease_until = 0 "
                 "WHERE id = ?1 AND state = 0 AND lease_owner = ?2"));
    auto bind = [](sqlite3_stmt* q, int i, std::string_view v) {
      sqlite3_bind_text(q, i, v.data(), static_cast<int>(v.size()),
                        SQLITE_STATIC);
    };
    int64_t at = absl::ToUnixMillis(now);
    for (const Outcome& o : outcomes) {
      sqlite3_stmt* q;
      if (o.skipped) {
        q = release_;
        bind(q, 1, o.id);
        bind(q, 2, owner);
      } else if (o.delivered) {
        q = keep_delivered_ ? done_ : delete_;
        if (keep_delivered_) sqlite3_bind_int64(q, 1, at);
        bind(q, 2, o.id);
        bind(q, 3, owner);
      } else {
        q = fail_;
        sqlite3_bind_int64(q, 1, o.dead ? 2 : 0);
        bind(q, 2, o.error);
        sqlite3_bind_int64(q, 3, absl::ToUnixMillis(o.next_attempt_at));
        bind(q, 4, o.id);
        bind(q, 5, owner);
      }
      int rc = sqlite3_step(q);
      sqlite3_reset(q);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "complete");
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<OutboxStats> SqliteStore::Stats(absl::Time now) {
  OutboxStats st;
  Stmt q;
  PANTAU_RETURN_IF_ERROR(
      q.Prepare(db_,
                "SELECT (SELECT count(*) FROM pantau_outbox WHERE state = 0), "
                "(SELECT min(created_at) FROM pantau_outbox WHERE state = 0), "
                "(SELECT count(*) FROM pantau_outbox WHERE state = 2)"));
  PANTAU_ASSIGN_OR_RETURN(bool row, q.Step());
  if (row) {
    st.pending = q.Int(0);
    if (sqlite3_column_type(q.get(), 1) != SQLITE_NULL) {
      st.oldest_pending = absl::FromUnixMillis(q.Int(1));
      st.oldest_pending_age =
          std::max(absl::ZeroDuration(), now - st.oldest_pending);
    }
    st.dead = q.Int(2);
  }
  return st;
}

absl::StatusOr<std::vector<Message>> SqliteStore::ListDead(
    int limit, std::string_view after_id) {
  Stmt q;
  PANTAU_RETURN_IF_ERROR(q.Prepare(
      db_, absl::StrCat("SELECT ", kColumns,
                        " FROM pantau_outbox WHERE state = 2 AND id > ?1 "
                        "ORDER BY id LIMIT ?2")
               .c_str()));
  q.BindText(1, after_id);
  q.BindInt(2, limit);
  std::vector<Message> out;
  while (true) {
    PANTAU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    PANTAU_ASSIGN_OR_RETURN(Message m, ReadRow(q));
    out.push_back(std::move(m));
  }
  return out;
}

absl::StatusOr<int64_t> SqliteStore::Replay(const std::vector<std::string>& ids,
                                            absl::Time now) {
  int64_t n = 0;
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    Stmt q;
    constexpr char kSet[] =
        "UPDATE pantau_outbox SET state = 0, attempts = 0, last_error = '', "
        "next_attempt_at = ?1, lease_owner = '', lease_until = 0 "
        "WHERE state = 2";
    if (ids.empty()) {
      PANTAU_RETURN_IF_ERROR(q.Prepare(db_, kSet));
      q.BindInt(1, absl::ToUnixMillis(now));
      PANTAU_RETURN_IF_ERROR(q.Run());
      n = sqlite3_changes(db_);
      return absl::OkStatus();
    }
    PANTAU_RETURN_IF_ERROR(
        q.Prepare(db_, absl::StrCat(kSet, " AND id = ?2").c_str()));
    for (const std::string& id : ids) {
      sqlite3_reset(q.get());
      q.BindInt(1, absl::ToUnixMillis(now));
      q.BindText(2, id);
      PANTAU_RETURN_IF_ERROR(q.Run());
      n += sqlite3_changes(db_);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<int64_t> SqliteStore::CleanupDelivered(absl::Time before) {
  Stmt q;
  PANTAU_RETURN_IF_ERROR(q.Prepare(
      db_, "DELETE FROM pantau_outbox WHERE state = 1 AND delivered_at < ?1"));
  q.BindInt(1, absl::ToUnixMillis(before));
  PANTAU_RETURN_IF_ERROR(q.Run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

absl::StatusOr<int64_t> SqliteStore::CleanupInbox(absl::Time before) {
  Stmt q;
  PANTAU_RETURN_IF_ERROR(
      q.Prepare(db_, "DELETE FROM pantau_inbox WHERE processed_at < ?1"));
  q.BindInt(1, absl::ToUnixMillis(before));
  PANTAU_RETURN_IF_ERROR(q.Run());
  return static_cast<int64_t>(sqlite3_changes(db_));
}

absl::Status SqliteStore::WaitForWork(absl::Duration timeout) {
  absl::MutexLock lock(&wake_mu_);
  wake_mu_.AwaitWithTimeout(absl::Condition(&woken_), timeout);
  woken_ = false;
  return absl::OkStatus();
}

void SqliteStore::Wake() {
  absl::MutexLock lock(&wake_mu_);
  woken_ = true;
}

SqliteOutbox::SqliteOutbox(sqlite3* db, base::Clock* clock)
    : db_(db), clock_(clock) {}

SqliteOutbox::~SqliteOutbox() { sqlite3_finalize(insert_); }

absl::Status SqliteOutbox::Enqueue(Message& m) {
  if (sqlite3_get_autocommit(db_)) {
    return absl::FailedPreconditionError(
        "outbox Enqueue needs an open transaction on the connection");
  }
  PANTAU_RETURN_IF_ERROR(PrepareForEnqueue(m, clock_->Now()));
  if (insert_ == nullptr) {
    int rc = sqlite3_prepare_v3(
        db_,
        "INSERT INTO pantau_outbox (id, topic, key, type, payload, headers, "
        "created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        -1, SQLITE_PREPARE_PERSISTENT, &insert_, nullptr);
    if (rc != SQLITE_OK) {
      insert_ = nullptr;
      return SqliteError(db_, rc, "prepare outbox insert");
    }
  }
  sqlite3_reset(insert_);
  std::string headers = EncodeHeaders(m.headers);
  auto text = [&](int i, const std::string& v) {
    sqlite3_bind_text(insert_, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  };
  text(1, m.id);
  text(2, m.topic);
  text(3, m.key);
  text(4, m.type);
  sqlite3_bind_blob(insert_, 5, m.payload.data(),
                    static_cast<int>(m.payload.size()), SQLITE_STATIC);
  text(6, headers);
  sqlite3_bind_int64(insert_, 7, absl::ToUnixMillis(m.created_at));
  sqlite3_bind_int64(insert_, 8, absl::ToUnixMillis(m.next_attempt_at));
  int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  sqlite3_clear_bindings(insert_);
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "outbox insert");
  return absl::OkStatus();
}

absl::Status SqliteOutbox::EnqueueBatch(std::vector<Message>& messages) {
  for (Message& m : messages) PANTAU_RETURN_IF_ERROR(Enqueue(m));
  return absl::OkStatus();
}

SqliteInbox::SqliteInbox(sqlite3* db, std::string consumer, base::Clock* clock)
    : db_(db), consumer_(std::move(consumer)), clock_(clock) {}

SqliteInbox::~SqliteInbox() { sqlite3_finalize(insert_); }

absl::StatusOr<InboxResult> SqliteInbox::Process(const Message& m,
                                                 const Handler& handler) {
  if (!sqlite3_get_autocommit(db_)) {
    return absl::FailedPreconditionError(
        "inbox Process needs a connection without an open transaction");
  }
  if (insert_ == nullptr) {
    int rc = sqlite3_prepare_v3(
        db_,
        "INSERT OR IGNORE INTO pantau_inbox (consumer, message_id, "
        "processed_at) VALUES (?1, ?2, ?3)",
        -1, SQLITE_PREPARE_PERSISTENT, &insert_, nullptr);
    if (rc != SQLITE_OK) {
      insert_ = nullptr;
      return SqliteError(db_, rc, "prepare inbox insert");
    }
  }
  bool duplicate = false;
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    sqlite3_reset(insert_);
    sqlite3_bind_text(insert_, 1, consumer_.data(),
                      static_cast<int>(consumer_.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 2, m.id.data(), static_cast<int>(m.id.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(insert_, 3, absl::ToUnixMillis(clock_->Now()));
    int rc = sqlite3_step(insert_);
    sqlite3_reset(insert_);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "inbox insert");
    if (sqlite3_changes(db_) == 0) {
      duplicate = true;
      // Nothing to keep; an error status makes InWriteTx roll back.
      return absl::AlreadyExistsError("duplicate");
    }
    return handler(db_, m);
  });
  if (duplicate) return InboxResult::kDuplicate;
  if (!s.ok()) return s;
  return InboxResult::kProcessed;
}

absl::StatusOr<std::vector<InboxResult>> SqliteInbox::ProcessBatch(
    const std::vector<const Message*>& messages, const Handler& handler) {
  if (!sqlite3_get_autocommit(db_)) {
    return absl::FailedPreconditionError(
        "inbox Process needs a connection without an open transaction");
  }
  if (insert_ == nullptr) {
    int rc = sqlite3_prepare_v3(
        db_,
        "INSERT OR IGNORE INTO pantau_inbox (consumer, message_id, "
        "processed_at) VALUES (?1, ?2, ?3)",
        -1, SQLITE_PREPARE_PERSISTENT, &insert_, nullptr);
    if (rc != SQLITE_OK) {
      insert_ = nullptr;
      return SqliteError(db_, rc, "prepare inbox insert");
    }
  }
  std::vector<InboxResult> results;
  results.reserve(messages.size());
  int64_t now = absl::ToUnixMillis(clock_->Now());
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    for (const Message* m : messages) {
      sqlite3_reset(insert_);
      sqlite3_bind_text(insert_, 1, consumer_.data(),
                        static_cast<int>(consumer_.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 2, m->id.data(),
                        static_cast<int>(m->id.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 3, now);
      int rc = sqlite3_step(insert_);
      sqlite3_reset(insert_);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "inbox insert");
      if (sqlite3_changes(db_) == 0) {
        results.push_back(InboxResult::kDuplicate);
        continue;
      }
      PANTAU_RETURN_IF_ERROR(handler(db_, *m));
      results.push_back(InboxResult::kProcessed);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return results;
}

}  // namespace pantau::outbox
