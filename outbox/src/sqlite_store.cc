#include "pantau/outbox/sqlite_store.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/json_escape.h"
#include "base/status_macros.h"
#include "sqlite_util.h"
#include "uuid_key.h"

namespace pantau::outbox {
namespace {

using internal::ClaimKey;
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

// Version 2 splits the v1 row. The 1 KiB message is written once (at
// enqueue) into pantau_outbox_message; what changes while it travels lives
// in narrow rows keyed by the same seq: pantau_outbox_pending (attempts,
// retry time, lease) while it waits, then pantau_outbox_delivered or
// pantau_outbox_dead. A claim or a delivery so rewrites some 50 bytes
// instead of the whole row (SQLite writes whole 4 KiB pages to the WAL,
// and v1's per-key index was touched at random places on every insert and
// delivery). pantau_outbox becomes a read-only view with the v1 columns.
// Rows keep their seq, so pending messages keep their order.
constexpr char kMigrateV1ToV2[] = R"sql(
ALTER TABLE pantau_outbox RENAME TO pantau_outbox_v1;
DROP INDEX pantau_outbox_pending;
DROP INDEX pantau_outbox_key;
DROP INDEX pantau_outbox_delivered;
CREATE TABLE pantau_outbox_message (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  topic TEXT NOT NULL,
  key TEXT NOT NULL,
  type TEXT NOT NULL,
  payload BLOB NOT NULL,
  headers TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE pantau_outbox_pending (
  seq INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL DEFAULT '',
  lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0);
CREATE TABLE pantau_outbox_delivered (
  seq INTEGER PRIMARY KEY,
  delivered_at INTEGER NOT NULL);
CREATE INDEX pantau_outbox_delivered_at
  ON pantau_outbox_delivered(delivered_at);
CREATE TABLE pantau_outbox_dead (
  seq INTEGER PRIMARY KEY,
  attempts INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  dead_at INTEGER NOT NULL);
INSERT INTO pantau_outbox_message
  SELECT seq, id, topic, key, type, payload, headers, created_at
  FROM pantau_outbox_v1 ORDER BY seq;
INSERT INTO pantau_outbox_pending
  SELECT seq, key, attempts, next_attempt_at, last_error, lease_owner,
         lease_until
  FROM pantau_outbox_v1 WHERE state = 0 ORDER BY seq;
INSERT INTO pantau_outbox_delivered
  SELECT seq, coalesce(delivered_at, created_at)
  FROM pantau_outbox_v1 WHERE state = 1 ORDER BY seq;
INSERT INTO pantau_outbox_dead
  SELECT seq, attempts, last_error, next_attempt_at
  FROM pantau_outbox_v1 WHERE state = 2 ORDER BY seq;
DROP TABLE pantau_outbox_v1;
CREATE VIEW pantau_outbox AS
  SELECT m.seq AS seq, m.id AS id, m.topic AS topic, m.key AS key,
         m.type AS type, m.payload AS payload, m.headers AS headers,
         m.created_at AS created_at,
         coalesce(p.attempts, x.attempts) AS attempts,
         coalesce(p.next_attempt_at, x.dead_at) AS next_attempt_at,
         coalesce(p.last_error, x.last_error, '') AS last_error,
         CASE WHEN p.seq IS NOT NULL THEN 0
              WHEN d.seq IS NOT NULL THEN 1
              WHEN x.seq IS NOT NULL THEN 2 END AS state,
         coalesce(p.lease_owner, '') AS lease_owner,
         coalesce(p.lease_until, 0) AS lease_until,
         d.delivered_at AS delivered_at
  FROM pantau_outbox_message m
  LEFT JOIN pantau_outbox_pending p ON p.seq = m.seq
  LEFT JOIN pantau_outbox_delivered d ON d.seq = m.seq
  LEFT JOIN pantau_outbox_dead x ON x.seq = m.seq;
)sql";

// The message columns, in the order ReadMessage expects them.
constexpr char kMessageColumns[] =
    "m.seq, m.id, m.topic, m.key, m.type, m.payload, m.headers, m.created_at";

// Reads columns 1-7 of a row selected with kMessageColumns.
absl::Status ReadMessage(sqlite3_stmt* q, Message& m) {
  auto text = [&](int col) {
    const void* p = sqlite3_column_blob(q, col);
    int n = sqlite3_column_bytes(q, col);
    return p == nullptr ? std::string()
                        : std::string(static_cast<const char*>(p), n);
  };
  m.id = text(1);
  m.topic = text(2);
  m.key = text(3);
  m.type = text(4);
  m.payload = text(5);
  const char* h = reinterpret_cast<const char*>(sqlite3_column_text(q, 6));
  if (h != nullptr) {
    PANTAU_ASSIGN_OR_RETURN(m.headers, DecodeHeaders(std::string_view(
                                           h, sqlite3_column_bytes(q, 6))));
  }
  m.created_at = absl::FromUnixMillis(sqlite3_column_int64(q, 7));
  return absl::OkStatus();
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
  // 16 KiB pages for a database that has none yet (an existing one keeps
  // its size: SQLite changes it only before the first table, and never in
  // WAL mode). Each page of a commit is a WAL frame, two pwrite calls, and
  // each page another connection wrote since this one last read is a pread
  // (a commit on another connection empties this one's cache), so an
  // outbox of 1 KiB messages did several system calls per message at 4 KiB.
  // Measured with bench/outbox (SQLite, 150k messages, alternating):
  // 5.3-6.7 s of the bench's CPU against 7.0-7.2 s, producers at 37-46k
  // against 28-31k msg/s; 32 and 64 KiB were no better.
  PANTAU_RETURN_IF_ERROR(SqliteExec(db, "PRAGMA page_size=16384"));
  PANTAU_RETURN_IF_ERROR(SqliteExec(db, "PRAGMA journal_mode=WAL"));
  // SQLite checkpoints a WAL of 1000 pages, 4 MiB at its default page
  // size, in the commit that crosses it. Counted in 16 KiB pages that was
  // 16 MiB: a four times longer stall of whichever producer or relay
  // committed (p99 at 15k msg/s 43-51 ms against 29-34 ms). So the
  // threshold stays 4 MiB whatever the page size.
  int64_t page_size = 0;
  {
    Stmt q;
    PANTAU_RETURN_IF_ERROR(q.Prepare(db, "PRAGMA page_size"));
    PANTAU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) page_size = q.Int(0);
  }
  if (page_size > 0) {
    PANTAU_RETURN_IF_ERROR(SqliteExec(
        db, absl::StrCat("PRAGMA wal_autocheckpoint=",
                         std::max<int64_t>(1, (int64_t{4} << 20) / page_size))
                .c_str()));
  }
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
    // An active statement would make the migration's DROP TABLE fail.
    sqlite3_reset(q.get());
    if (version > kSqliteSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "outbox schema version ", version, " is newer than this library (",
          kSqliteSchemaVersion, ")"));
    }
    if (version == kSqliteSchemaVersion) return absl::OkStatus();
    // A new database also goes through every step: one path, always run.
    if (version < 1) PANTAU_RETURN_IF_ERROR(SqliteExec(db, kSchemaV1));
    if (version < 2) PANTAU_RETURN_IF_ERROR(SqliteExec(db, kMigrateV1ToV2));
    // Later versions add their steps here, each guarded by `version < n`.
    return SqliteExec(
        db, absl::StrCat("INSERT OR REPLACE INTO pantau_outbox_meta(name, "
                         "value) VALUES('schema', ",
                         kSqliteSchemaVersion, ")")
                .c_str());
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
  for (sqlite3_stmt* q : {scan_, lease_, read_, owned_, done_all_, release_,
                          done_, delivered_, delete_, fail_, dead_}) {
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

namespace {

// A JSON array of integers, for `IN (SELECT value FROM json_each(?))`: one
// statement for a whole batch. Per-row statements cost a VDBE run, a bind
// and a reset each, about half of the relay's SQLite time.
std::string JsonInts(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    absl::StrAppend(&out, i > 0 ? "," : "", v[i]);
  }
  out += "]";
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Message>> SqliteStore::Claim(std::string_view owner,
                                                        int limit,
                                                        absl::Time now,
                                                        absl::Duration lease) {
  std::vector<Message> out;
  std::vector<int64_t> take_seqs;  // the seq of each message of `out`
  int64_t now_ms = absl::ToUnixMillis(now);
  int64_t until_ms = absl::ToUnixMillis(now + lease);
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    // One walk over the pending rows in sequence order decides the batch:
    // a row that is not due (retry later) or leased by another relay
    // blocks its key, and every later row of a blocked key is left out, so
    // the batch holds a prefix of each key's pending messages (store.h).
    // The walk stops at `limit` rows taken; within the write transaction
    // nothing changes underneath it. The pending table is narrow (no
    // payload), so the walk and the lease write touch few pages.
    PANTAU_RETURN_IF_ERROR(Prepared(
        &scan_,
        "SELECT seq, key, next_attempt_at, lease_until, attempts, last_error "
        "FROM pantau_outbox_pending ORDER BY seq"));
    std::vector<int64_t>& take = take_seqs;
    take.reserve(limit);
    absl::flat_hash_set<std::string> blocked;
    auto keep = [&] {
      take.push_back(sqlite3_column_int64(scan_, 0));
      Message& m = out.emplace_back();
      m.next_attempt_at = absl::FromUnixMillis(sqlite3_column_int64(scan_, 2));
      m.attempts = static_cast<int>(sqlite3_column_int64(scan_, 4));
      if (sqlite3_column_bytes(scan_, 5) > 0) {
        m.last_error =
            reinterpret_cast<const char*>(sqlite3_column_text(scan_, 5));
      }
    };
    out.reserve(limit);
    while (static_cast<int>(take.size()) < limit) {
      int rc = sqlite3_step(scan_);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return SqliteError(db_, rc, "claim scan");
      bool due = sqlite3_column_int64(scan_, 2) <= now_ms &&
                 sqlite3_column_int64(scan_, 3) <= now_ms;
      if (due && blocked.empty()) {
        keep();
        continue;
      }
      const char* k =
          reinterpret_cast<const char*>(sqlite3_column_text(scan_, 1));
      absl::string_view key(k == nullptr ? "" : k,
                            sqlite3_column_bytes(scan_, 1));
      if (!blocked.empty() && blocked.contains(key)) continue;
      if (!due) {
        blocked.emplace(key);
        continue;
      }
      keep();
    }
    sqlite3_reset(scan_);
    if (take.empty()) return absl::OkStatus();
    std::string seqs = JsonInts(take);
    PANTAU_RETURN_IF_ERROR(
        Prepared(&lease_,
                 "UPDATE pantau_outbox_pending SET lease_owner = ?1, "
                 "lease_until = ?2 "
                 "WHERE seq IN (SELECT value FROM json_each(?3))"));
    sqlite3_bind_text(lease_, 1, owner.data(), static_cast<int>(owner.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int64(lease_, 2, until_ms);
    sqlite3_bind_text(lease_, 3, seqs.data(), static_cast<int>(seqs.size()),
                      SQLITE_STATIC);
    int rc = sqlite3_step(lease_);
    sqlite3_reset(lease_);
    if (rc != SQLITE_DONE) return SqliteError(db_, rc, "claim lease");
    PANTAU_RETURN_IF_ERROR(Prepared(
        &read_, absl::StrCat("SELECT ", kMessageColumns,
                             " FROM pantau_outbox_message m WHERE m.seq IN "
                             "(SELECT value FROM json_each(?1)) ORDER BY m.seq")
                    .c_str()));
    sqlite3_bind_text(read_, 1, seqs.data(), static_cast<int>(seqs.size()),
                      SQLITE_STATIC);
    // Both `take` and the rows come in seq order.
    size_t i = 0;
    absl::Status read;
    while (read.ok()) {
      rc = sqlite3_step(read_);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        read = SqliteError(db_, rc, "claim read messages");
      } else if (i >= take.size() ||
                 sqlite3_column_int64(read_, 0) != take[i]) {
        read = absl::DataLossError("outbox: a pending row has no message");
      } else {
        read = ReadMessage(read_, out[i++]);
      }
    }
    sqlite3_reset(read_);
    PANTAU_RETURN_IF_ERROR(read);
    if (i != take.size()) {
      return absl::DataLossError("outbox: a pending row has no message");
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (size_t i = 0; i < out.size(); ++i) {
    // An id not in canonical form is left to Complete's lookup by id.
    absl::uint128 key = ClaimKey(out[i].id);
    if (key != 0) claimed_seq_[key] = take_seqs[i];
  }
  return out;
}

absl::Status SqliteStore::Complete(std::string_view owner,
                                   const std::vector<Outcome>& outcomes,
                                   absl::Time now) {
  if (outcomes.empty()) return absl::OkStatus();
  // The seqs the claims read for these ids, taken out of claimed_seq_
  // whatever happens below (a failed Complete leaves the leases to run
  // out, and the next claim files the rows again).
  std::vector<int64_t> delivered;
  delivered.reserve(outcomes.size());
  std::string unknown_ids = "[";
  for (const Outcome& o : outcomes) {
    auto it = claimed_seq_.find(ClaimKey(o.id));
    bool known = it != claimed_seq_.end();
    int64_t seq = known ? it->second : 0;
    if (known) claimed_seq_.erase(it);
    if (!o.delivered || o.skipped) continue;
    if (known) {
      delivered.push_back(seq);
      continue;
    }
    absl::StrAppend(&unknown_ids, unknown_ids.size() > 1 ? ",\"" : "\"");
    base::AppendJsonEscaped(&unknown_ids, o.id);
    unknown_ids += '"';
  }
  unknown_ids += ']';
  return InWriteTx(db_, [&]() -> absl::Status {
    // Every statement checks the lease: a relay whose lease ran out must
    // not record over the relay that took the row since. The rare rows
    // that were not delivered are found one at a time by message id
    // (unique); the delivered ones below in bulk.
    constexpr char kRow[] =
        "seq = (SELECT seq FROM pantau_outbox_message WHERE id = ?1) "
        "AND lease_owner = ?2";
    auto bind = [](sqlite3_stmt* q, int i, std::string_view v) {
      sqlite3_bind_text(q, i, v.data(), static_cast<int>(v.size()),
                        SQLITE_STATIC);
    };
    // Steps a statement without result rows.
    auto run = [&](sqlite3_stmt* q) -> absl::Status {
      int rc = sqlite3_step(q);
      sqlite3_reset(q);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "complete");
      return absl::OkStatus();
    };
    int64_t at = absl::ToUnixMillis(now);

    // The delivered messages, usually the whole batch, in a few statements
    // for all of them. Their pending rows go where still leased to us (a
    // row whose lease went to another relay is not ours to record), and
    // for those the delivery is recorded (or the message deleted, without
    // retention). Seqs come from the claim; an id this store did not claim
    // is looked up.
    std::vector<int64_t> seqs;
    seqs.reserve(outcomes.size());
    if (unknown_ids.size() > 2) {
      PANTAU_RETURN_IF_ERROR(
          Prepared(&owned_,
                   "SELECT p.seq FROM pantau_outbox_message m "
                   "JOIN pantau_outbox_pending p ON p.seq = m.seq "
                   "WHERE m.id IN (SELECT value FROM json_each(?1)) "
                   "AND p.lease_owner = ?2"));
      bind(owned_, 1, unknown_ids);
      bind(owned_, 2, owner);
      int rc;
      while ((rc = sqlite3_step(owned_)) == SQLITE_ROW) {
        seqs.push_back(sqlite3_column_int64(owned_, 0));
      }
      sqlite3_reset(owned_);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "complete");
    }
    seqs.insert(seqs.end(), delivered.begin(), delivered.end());
    if (!seqs.empty()) {
      std::string candidates = JsonInts(seqs);
      PANTAU_RETURN_IF_ERROR(
          Prepared(&done_all_,
                   "DELETE FROM pantau_outbox_pending "
                   "WHERE seq IN (SELECT value FROM json_each(?1)) "
                   "AND lease_owner = ?2 RETURNING seq"));
      bind(done_all_, 1, candidates);
      bind(done_all_, 2, owner);
      seqs.clear();
      int rc;
      while ((rc = sqlite3_step(done_all_)) == SQLITE_ROW) {
        seqs.push_back(sqlite3_column_int64(done_all_, 0));
      }
      sqlite3_reset(done_all_);
      if (rc != SQLITE_DONE) return SqliteError(db_, rc, "complete");
    }
    if (!seqs.empty()) {
      std::string json = JsonInts(seqs);
      if (keep_delivered_) {
        PANTAU_RETURN_IF_ERROR(
            Prepared(&delivered_,
                     "INSERT INTO pantau_outbox_delivered (seq, "
                     "delivered_at) SELECT value, ?2 FROM json_each(?1)"));
        bind(delivered_, 1, json);
        sqlite3_bind_int64(delivered_, 2, at);
        PANTAU_RETURN_IF_ERROR(run(delivered_));
      } else {
        PANTAU_RETURN_IF_ERROR(
            Prepared(&delete_,
                     "DELETE FROM pantau_outbox_message "
                     "WHERE seq IN (SELECT value FROM json_each(?1))"));
        bind(delete_, 1, json);
        PANTAU_RETURN_IF_ERROR(run(delete_));
      }
    }

    // The rest, one row at a time: a skipped row is released, a failed one
    // rescheduled, a dead one moved to the dead letters.
    for (const Outcome& o : outcomes) {
      if (o.delivered && !o.skipped) continue;
      if (o.skipped) {
        PANTAU_RETURN_IF_ERROR(Prepared(
            &release_, absl::StrCat("UPDATE pantau_outbox_pending SET "
                                    "lease_owner = '', lease_until = 0 WHERE ",
                                    kRow)
                           .c_str()));
        bind(release_, 1, o.id);
        bind(release_, 2, owner);
        PANTAU_RETURN_IF_ERROR(run(release_));
        continue;
      }
      if (!o.dead) {
        PANTAU_RETURN_IF_ERROR(Prepared(
            &fail_,
            absl::StrCat("UPDATE pantau_outbox_pending SET attempts = "
                         "attempts + 1, last_error = ?3, next_attempt_at = ?4, "
                         "lease_owner = '', lease_until = 0 WHERE ",
                         kRow)
                .c_str()));
        bind(fail_, 1, o.id);
        bind(fail_, 2, owner);
        bind(fail_, 3, o.error);
        sqlite3_bind_int64(fail_, 4, absl::ToUnixMillis(o.next_attempt_at));
        PANTAU_RETURN_IF_ERROR(run(fail_));
        continue;
      }
      // Dead: the pending row goes, its seq and attempts come back for the
      // dead-letter row.
      PANTAU_RETURN_IF_ERROR(Prepared(
          &done_, absl::StrCat("DELETE FROM pantau_outbox_pending WHERE ", kRow,
                               " RETURNING seq, attempts")
                      .c_str()));
      bind(done_, 1, o.id);
      bind(done_, 2, owner);
      int rc = sqlite3_step(done_);
      if (rc == SQLITE_DONE) {  // not ours (any more): nothing to record
        sqlite3_reset(done_);
        continue;
      }
      if (rc != SQLITE_ROW) {
        sqlite3_reset(done_);
        return SqliteError(db_, rc, "complete");
      }
      int64_t seq = sqlite3_column_int64(done_, 0);
      int64_t attempts = sqlite3_column_int64(done_, 1);
      PANTAU_RETURN_IF_ERROR(run(done_));
      PANTAU_RETURN_IF_ERROR(
          Prepared(&dead_,
                   "INSERT INTO pantau_outbox_dead (seq, attempts, last_error, "
                   "dead_at) VALUES (?1, ?2, ?3, ?4)"));
      sqlite3_bind_int64(dead_, 1, seq);
      sqlite3_bind_int64(dead_, 2, attempts + 1);
      bind(dead_, 3, o.error);
      sqlite3_bind_int64(dead_, 4, at);
      PANTAU_RETURN_IF_ERROR(run(dead_));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<OutboxStats> SqliteStore::Stats(absl::Time now) {
  // The oldest pending message is the one enqueued first, the lowest seq:
  // one probe of the pending key, where min(created_at) over a join of
  // every pending row took 65 ms a call with 100k pending (PostgreSQL).
  OutboxStats st;
  Stmt q;
  PANTAU_RETURN_IF_ERROR(
      q.Prepare(db_,
                "SELECT (SELECT count(*) FROM pantau_outbox_pending), "
                "(SELECT m.created_at FROM pantau_outbox_message m WHERE "
                "m.seq = (SELECT min(seq) FROM pantau_outbox_pending)), "
                "(SELECT count(*) FROM pantau_outbox_dead)"));
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
      db_, absl::StrCat("SELECT ", kMessageColumns,
                        ", x.attempts, x.dead_at, x.last_error "
                        "FROM pantau_outbox_dead x JOIN pantau_outbox_message "
                        "m ON m.seq = x.seq WHERE m.id > ?1 "
                        "ORDER BY m.id LIMIT ?2")
               .c_str()));
  q.BindText(1, after_id);
  q.BindInt(2, limit);
  std::vector<Message> out;
  while (true) {
    PANTAU_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Message& m = out.emplace_back();
    PANTAU_RETURN_IF_ERROR(ReadMessage(q.get(), m));
    m.attempts = static_cast<int>(q.Int(8));
    m.next_attempt_at = absl::FromUnixMillis(q.Int(9));
    m.last_error = q.Text(10);
  }
  return out;
}

absl::StatusOr<int64_t> SqliteStore::Replay(const std::vector<std::string>& ids,
                                            absl::Time now) {
  int64_t n = 0;
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    // Back into the pending table under its old seq: a replayed message
    // goes out before its key's later messages, as it would have.
    constexpr char kBack[] =
        "INSERT INTO pantau_outbox_pending (seq, key, next_attempt_at) "
        "SELECT x.seq, m.key, ?1 FROM pantau_outbox_dead x "
        "JOIN pantau_outbox_message m ON m.seq = x.seq";
    Stmt back, drop;
    if (ids.empty()) {
      PANTAU_RETURN_IF_ERROR(back.Prepare(db_, kBack));
      back.BindInt(1, absl::ToUnixMillis(now));
      PANTAU_RETURN_IF_ERROR(back.Run());
      n = sqlite3_changes(db_);
      return SqliteExec(db_, "DELETE FROM pantau_outbox_dead");
    }
    PANTAU_RETURN_IF_ERROR(
        back.Prepare(db_, absl::StrCat(kBack, " WHERE m.id = ?2").c_str()));
    PANTAU_RETURN_IF_ERROR(
        drop.Prepare(db_,
                     "DELETE FROM pantau_outbox_dead WHERE seq = "
                     "(SELECT seq FROM pantau_outbox_message WHERE id = ?1)"));
    for (const std::string& id : ids) {
      sqlite3_reset(back.get());
      back.BindInt(1, absl::ToUnixMillis(now));
      back.BindText(2, id);
      PANTAU_RETURN_IF_ERROR(back.Run());
      n += sqlite3_changes(db_);
      sqlite3_reset(drop.get());
      drop.BindText(1, id);
      PANTAU_RETURN_IF_ERROR(drop.Run());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<int64_t> SqliteStore::CleanupDelivered(absl::Time before,
                                                      int64_t limit) {
  // One chunk of the oldest delivered rows: the write lock it holds stops
  // every producer, so it must stay short (150k rows in one transaction
  // held it for 1.6 s in bench/outbox --steady). Both statements pick the
  // same rows: the same total order, in one write transaction.
  int64_t n = 0;
  absl::Status s = InWriteTx(db_, [&]() -> absl::Status {
    constexpr char kChunk[] =
        "(SELECT seq FROM pantau_outbox_delivered WHERE delivered_at < ?1 "
        "ORDER BY delivered_at, seq LIMIT ?2)";
    Stmt messages, delivered;
    PANTAU_RETURN_IF_ERROR(messages.Prepare(
        db_,
        absl::StrCat("DELETE FROM pantau_outbox_message WHERE seq IN ", kChunk)
            .c_str()));
    PANTAU_RETURN_IF_ERROR(delivered.Prepare(
        db_, absl::StrCat("DELETE FROM pantau_outbox_delivered WHERE seq IN ",
                          kChunk)
                 .c_str()));
    for (Stmt* q : {&messages, &delivered}) {
      q->BindInt(1, absl::ToUnixMillis(before));
      q->BindInt(2, std::max<int64_t>(1, limit));
      PANTAU_RETURN_IF_ERROR(q->Run());
    }
    n = sqlite3_changes(db_);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return n;
}

absl::StatusOr<int64_t> SqliteStore::CleanupInbox(absl::Time before,
                                                  int64_t limit) {
  Stmt q;
  PANTAU_RETURN_IF_ERROR(q.Prepare(
      db_,
      "DELETE FROM pantau_inbox WHERE (consumer, message_id) IN (SELECT "
      "consumer, message_id FROM pantau_inbox WHERE processed_at < ?1 "
      "LIMIT ?2)"));
  q.BindInt(1, absl::ToUnixMillis(before));
  q.BindInt(2, std::max<int64_t>(1, limit));
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

SqliteOutbox::~SqliteOutbox() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(pending_);
}

absl::Status SqliteOutbox::Enqueue(Message& m) {
  if (sqlite3_get_autocommit(db_)) {
    return absl::FailedPreconditionError(
        "outbox Enqueue needs an open transaction on the connection");
  }
  PANTAU_RETURN_IF_ERROR(PrepareForEnqueue(m, clock_->Now()));
  auto prepare = [&](sqlite3_stmt** q, const char* sql) -> absl::Status {
    if (*q != nullptr) return absl::OkStatus();
    int rc =
        sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, q, nullptr);
    if (rc != SQLITE_OK) {
      *q = nullptr;
      return SqliteError(db_, rc, "prepare outbox insert");
    }
    return absl::OkStatus();
  };
  PANTAU_RETURN_IF_ERROR(
      prepare(&insert_,
              "INSERT INTO pantau_outbox_message (id, topic, key, type, "
              "payload, headers, created_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  // The narrow row the relay works on, under the message's seq.
  PANTAU_RETURN_IF_ERROR(
      prepare(&pending_,
              "INSERT INTO pantau_outbox_pending (seq, key, next_attempt_at) "
              "VALUES (last_insert_rowid(), ?1, ?2)"));
  std::string headers = EncodeHeaders(m.headers);
  auto text = [&](sqlite3_stmt* q, int i, const std::string& v) {
    sqlite3_bind_text(q, i, v.data(), static_cast<int>(v.size()),
                      SQLITE_STATIC);
  };
  text(insert_, 1, m.id);
  text(insert_, 2, m.topic);
  text(insert_, 3, m.key);
  text(insert_, 4, m.type);
  sqlite3_bind_blob(insert_, 5, m.payload.data(),
                    static_cast<int>(m.payload.size()), SQLITE_STATIC);
  text(insert_, 6, headers);
  sqlite3_bind_int64(insert_, 7, absl::ToUnixMillis(m.created_at));
  int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  sqlite3_clear_bindings(insert_);
  if (rc != SQLITE_DONE) return SqliteError(db_, rc, "outbox insert");
  text(pending_, 1, m.key);
  sqlite3_bind_int64(pending_, 2, absl::ToUnixMillis(m.next_attempt_at));
  rc = sqlite3_step(pending_);
  sqlite3_reset(pending_);
  sqlite3_clear_bindings(pending_);
  if (rc != SQLITE_DONE) {
    absl::Status s = SqliteError(db_, rc, "outbox insert");
    // Leave no message without its pending row should the caller commit.
    Stmt undo;
    if (undo.Prepare(db_, "DELETE FROM pantau_outbox_message WHERE id = ?1")
            .ok()) {
      undo.BindText(1, m.id);
      undo.Run().IgnoreError();
    }
    return s;
  }
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
