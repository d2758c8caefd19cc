// The SQLite store: the embedded default. One database file holds the
// application's tables and the outbox (and, on the consuming side, the
// inbox), so a business write and its message commit together.
//
// Connections run in WAL mode with synchronous=NORMAL: a commit survives a
// process crash (kill -9); an OS crash may lose the last commits, both the
// business change and its message together, never one without the other.
//
// Thread safety: none of these classes is thread-safe; each wraps one
// connection, which must be used by one thread at a time.
#ifndef PANTAU_OUTBOX_SQLITE_STORE_H_
#define PANTAU_OUTBOX_SQLITE_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/time.h"
#include "pantau/outbox/message.h"
#include "pantau/outbox/store.h"

struct sqlite3;
struct sqlite3_stmt;

namespace pantau::outbox {

// Sets WAL mode, synchronous=NORMAL and a busy handler on a connection
// that waits up to `busy_timeout` for the write lock, polling it every
// 0.2-1 ms (SQLite's own busy timeout backs off to 100 ms sleeps). A
// database that is still empty gets 16 KiB pages; one with tables keeps
// its page size.
absl::Status ConfigureSqliteConnection(sqlite3* db,
                                       absl::Duration busy_timeout);
// Creates or upgrades the outbox and inbox tables. Idempotent; safe to run
// from several processes at once (it takes the write lock).
absl::Status MigrateSqlite(sqlite3* db);
// The schema version MigrateSqlite brings a database to.
inline constexpr int kSqliteSchemaVersion = 2;

// The relay's side: its own connection to the database file.
class SqliteStore : public RelayStore {
 public:
  // Opens (creating when missing) `path`, configures it and migrates.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(
      const std::string& path, absl::Duration busy_timeout = absl::Seconds(10));
  ~SqliteStore() override;

  absl::StatusOr<std::vector<Message>> Claim(std::string_view owner, int limit,
                                             absl::Time now,
                                             absl::Duration lease) override;
  absl::Status Complete(std::string_view owner,
                        const std::vector<Outcome>& outcomes,
                        absl::Time now) override;
  absl::StatusOr<OutboxStats> Stats(absl::Time now) override;
  void SetKeepDelivered(bool keep) override { keep_delivered_ = keep; }
  bool CanClaimAhead() const override { return true; }
  absl::StatusOr<std::vector<Message>> ListDead(
      int limit, std::string_view after_id) override;
  absl::StatusOr<int64_t> Replay(const std::vector<std::string>& ids,
                                 absl::Time now) override;
  absl::StatusOr<int64_t> CleanupDelivered(absl::Time before,
                                           int64_t limit) override;
  absl::StatusOr<int64_t> CleanupInbox(absl::Time before,
                                       int64_t limit) override;
  absl::Status WaitForWork(absl::Duration timeout) override;
  void Wake() override;

  sqlite3* db() { return db_; }

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  // Prepares `*stmt` from `sql` once and keeps it (statements of the hot
  // path are compiled once per connection, not once per round).
  absl::Status Prepared(sqlite3_stmt** stmt, const char* sql);
  sqlite3* db_;
  sqlite3_stmt* scan_ = nullptr;       // pending rows in sequence order
  sqlite3_stmt* lease_ = nullptr;      // lease the claimed rows
  sqlite3_stmt* read_ = nullptr;       // read the claimed messages
  sqlite3_stmt* owned_ = nullptr;      // delivered ids -> seqs still ours
  sqlite3_stmt* done_all_ = nullptr;   // delete the delivered pending rows
  sqlite3_stmt* release_ = nullptr;    // release a skipped row
  sqlite3_stmt* done_ = nullptr;       // delete a dead pending row
  sqlite3_stmt* delivered_ = nullptr;  // record the deliveries
  sqlite3_stmt* delete_ = nullptr;     // delete the delivered messages
  sqlite3_stmt* fail_ = nullptr;       // record a failed attempt
  sqlite3_stmt* dead_ = nullptr;       // record a dead letter
  absl::Mutex wake_mu_;
  bool woken_ ABSL_GUARDED_BY(wake_mu_) = false;
  bool keep_delivered_ = true;
  // The seq of each claimed message not yet Completed (at most two claims'
  // worth, with claim-ahead), by the id's 128 bits: Complete finds the
  // pending rows by seq instead of looking each id up.
  absl::flat_hash_map<absl::uint128, int64_t> claimed_seq_;
};

// Writes messages on the application's connection, inside the
// application's open transaction. Holds prepared statements for `db`
// (not owned; must outlive this object).
class SqliteOutbox {
 public:
  explicit SqliteOutbox(sqlite3* db, base::Clock* clock = base::Clock::Real());
  ~SqliteOutbox();
  SqliteOutbox(const SqliteOutbox&) = delete;
  SqliteOutbox& operator=(const SqliteOutbox&) = delete;

  // Inserts `m` (filling id, created_at and trace context, see
  // PrepareForEnqueue). Fails with FailedPrecondition when no transaction
  // is open on the connection: an outbox write outside the business
  // transaction would defeat the point.
  absl::Status Enqueue(Message& m);
  // Enqueue for each message, in order; stops at the first error.
  absl::Status EnqueueBatch(std::vector<Message>& messages);

 private:
  sqlite3* db_;
  base::Clock* clock_;
  sqlite3_stmt* insert_ = nullptr;   // the message
  sqlite3_stmt* pending_ = nullptr;  // its pending row
};

// The consuming side: records (consumer, message id) in the same
// transaction as the handler's own writes.
class SqliteInbox {
 public:
  // The handler runs inside the transaction and writes through `db`. A
  // non-OK status rolls everything back (the message will be redelivered).
  using Handler = std::function<absl::Status(sqlite3* db, const Message& m)>;

  // `db` not owned; `consumer` names this consumer (one inbox table serves
  // many consumers).
  SqliteInbox(sqlite3* db, std::string consumer,
              base::Clock* clock = base::Clock::Real());
  ~SqliteInbox();
  SqliteInbox(const SqliteInbox&) = delete;
  SqliteInbox& operator=(const SqliteInbox&) = delete;

  // BEGIN IMMEDIATE; insert (consumer, id); run the handler; COMMIT. When
  // the id was already recorded nothing runs and kDuplicate is returned.
  // Precondition: no transaction open on the connection.
  absl::StatusOr<InboxResult> Process(const Message& m, const Handler& handler);
  // Process for several messages in ONE transaction (far fewer commits
  // under load). Any handler error rolls back the whole batch and is
  // returned; process the messages one by one then, so a bad message only
  // fails itself. Results are in input order.
  absl::StatusOr<std::vector<InboxResult>> ProcessBatch(
      const std::vector<const Message*>& messages, const Handler& handler);
  const std::string& consumer() const { return consumer_; }

 private:
  sqlite3* db_;
  std::string consumer_;
  base::Clock* clock_;
  sqlite3_stmt* insert_ = nullptr;
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_SQLITE_STORE_H_
