#include "pantau/outbox/sqlite_store.h"

#include <algorithm>
#include <cstdint>

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

}  // namespace

absl::Status ConfigureSqliteConnection(sqlite3* db,
                                       absl::Duration busy_timeout) {
  sqlite3_busy_timeout(
      db, static_cast<int>(absl::ToInt64Milliseconds(busy_timeout)));
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

SqliteStore::~SqliteStore() { sqlite3_close_v2(db_); }

absl::StatusOr<std::vector<Message>> SqliteStore::Claim(std::string_view owner,
                                                        int limit,
                                                        absl::Time now,
                                                        absl::Duration lease) {
  std::vector<std::pair<int64_t, Message>> rows;
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    Stmt q;
    PANTAU_RETURN_IF_ERROR(q.Prepare(
        db_, absl::StrCat(
                 // c: the earliest due, unleased rows; h: each of their
                 // keys' earliest pending row. A key is taken only when
                 // that row is in c (so c holds a prefix of the key).
                 "WITH c AS (SELECT seq, key FROM pantau_outbox "
                 "WHERE state = 0 AND next_attempt_at <= ?3 "
                 "AND lease_until <= ?3 ORDER BY seq LIMIT ?4), "
                 "h AS (SELECT k.key, (SELECT min(p.seq) FROM pantau_outbox p "
                 "WHERE p.state = 0 AND p.key = k.key) AS head "
                 "FROM (SELECT DISTINCT key FROM c) k) "
                 "UPDATE pantau_outbox SET lease_owner = ?1, lease_until = ?2 "
                 "WHERE seq IN (SELECT c.seq FROM c JOIN h ON h.key = c.key "
                 "WHERE h.head IN (SELECT seq FROM c)) RETURNING ",
                 kColumns)
                 .c_str()));
    q.BindText(1, owner);
    q.BindInt(2, absl::ToUnixMillis(now + lease));
    q.BindInt(3, absl::ToUnixMillis(now));
    q.BindInt(4, limit);
    while (true) {
      PANTAU_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      PANTAU_ASSIGN_OR_RETURN(Message m, ReadRow(q));
      rows.emplace_back(q.Int(0), std::move(m));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  // RETURNING gives no order guarantee; publish order is sequence order.
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Message> out;
  out.reserve(rows.size());
  for (auto& [seq, m] : rows) out.push_back(std::move(m));
  return out;
}

absl::Status SqliteStore::Complete(std::string_view owner,
                                   const std::vector<Outcome>& outcomes,
                                   absl::Time now) {
  if (outcomes.empty()) return absl::OkStatus();
  return InWriteTx(db_, [&]() -> absl::Status {
    Stmt ok, fail, skip;
    PANTAU_RETURN_IF_ERROR(
        ok.Prepare(db_,
                   "UPDATE pantau_outbox SET state = 1, delivered_at = ?1, "
                   "attempts = attempts + 1, lease_owner = '', lease_until = 0 "
                   "WHERE id = ?2 AND state = 0 AND lease_owner = ?3"));
    PANTAU_RETURN_IF_ERROR(fail.Prepare(
        db_,
        "UPDATE pantau_outbox SET state = ?1, attempts = attempts + 1, "
        "last_error = ?2, next_attempt_at = ?3, lease_owner = '', "
        "lease_until = 0 WHERE id = ?4 AND state = 0 AND lease_owner = ?5"));
    PANTAU_RETURN_IF_ERROR(skip.Prepare(
        db_,
        "UPDATE pantau_outbox SET lease_owner = '', lease_until = 0 "
        "WHERE id = ?1 AND state = 0 AND lease_owner = ?2"));
    for (const Outcome& o : outcomes) {
      Stmt& q = o.delivered ? ok : o.skipped ? skip : fail;
      sqlite3_reset(q.get());
      if (o.skipped) {
        q.BindText(1, o.id);
        q.BindText(2, owner);
      } else if (o.delivered) {
        q.BindInt(1, absl::ToUnixMillis(now));
        q.BindText(2, o.id);
        q.BindText(3, owner);
      } else {
        q.BindInt(1, o.dead ? 2 : 0);
        q.BindText(2, o.error);
        q.BindInt(3, absl::ToUnixMillis(o.next_attempt_at));
        q.BindText(4, o.id);
        q.BindText(5, owner);
      }
      PANTAU_RETURN_IF_ERROR(q.Run());
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
