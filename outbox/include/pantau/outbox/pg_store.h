// The PostgreSQL store (libpq). Several relays may share one database:
// pending messages are split by hash(key) into kPgPartitions partitions; a
// claim locks a share of the partitions FOR UPDATE SKIP LOCKED in a
// transaction that stays open until Complete records the outcome and
// commits, and takes their messages in sequence order. So each key has one
// owner at a time without writing a lease (or a row lock) into each
// message's row. A relay that dies loses its connection and with it the
// claim; one that hangs is cut off after the lease
// (idle_in_transaction_session_timeout).
// A statement trigger NOTIFYs `pantau_outbox` on insert so idle relays
// wake without waiting for their poll interval.
// Each relay VACUUMs the pending table itself after every
// kPgVacuumEvery rows it delivered or retried (see PgStore::Complete).
//
// Link `pantau_outbox_pg`.
//
// Thread safety: none of these classes is thread-safe; each uses one
// connection from one thread at a time. PgStore::Wake is thread-safe.
#ifndef PANTAU_OUTBOX_PG_STORE_H_
#define PANTAU_OUTBOX_PG_STORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"
#include "base/time.h"
#include "pantau/outbox/message.h"
#include "pantau/outbox/store.h"

typedef struct pg_conn PGconn;

namespace pantau::outbox {

// Creates or upgrades the outbox and inbox tables, the NOTIFY trigger and
// indexes. Idempotent; concurrent callers serialise on an advisory lock.
// Precondition: no transaction open on `conn`.
absl::Status MigratePg(PGconn* conn);
inline constexpr int kPgSchemaVersion = 8;
// Pending messages are split by hash(key) into this many partitions; a
// claim locks whole partitions (see PgStore). Fixed by the schema, since
// every producer and relay must map a key to the same partition.
inline constexpr int kPgPartitions = 32;
// How many pending rows a relay deletes or updates between its VACUUMs of
// the pending table.
inline constexpr int kPgVacuumEvery = 10000;

class PgStore : public RelayStore {
 public:
  // Connects twice to `conninfo` (a libpq connection string or URI): one
  // connection for work, one that LISTENs. Migrates the schema.
  static absl::StatusOr<std::unique_ptr<PgStore>> Open(
      const std::string& conninfo);
  ~PgStore() override;

  absl::StatusOr<std::vector<Message>> Claim(std::string_view owner, int limit,
                                             absl::Time now,
                                             absl::Duration lease) override;
  absl::Status Complete(std::string_view owner,
                        const std::vector<Outcome>& outcomes,
                        absl::Time now) override;
  absl::StatusOr<OutboxStats> Stats(absl::Time now) override;
  void SetKeepDelivered(bool keep) override { keep_delivered_ = keep; }
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

 private:
  PgStore(std::string conninfo, PGconn* conn, PGconn* listen, int wake_fd);
  // Re-establishes a dropped connection (e.g. after a server restart).
  absl::Status EnsureConnected(PGconn* conn, bool listen);
  // VACUUM (SKIP_LOCKED) of the pending table, when this role may.
  void VacuumPending();

  std::string conninfo_;
  PGconn* conn_;
  PGconn* listen_;
  int wake_fd_;  // eventfd, written by Wake()
  bool keep_delivered_ = true;
  // How many partitions a claim takes first: half, so two relays share.
  int share_ = (kPgPartitions + 1) / 2;
  int next_part_ = 0;  // where the next claim starts trying
  // The seq of each message of the open claim, by the id's 128 bits, for
  // Complete.
  absl::flat_hash_map<absl::uint128, int64_t> claimed_seq_;
  // Pending rows this relay deleted or updated since its last VACUUM.
  int64_t churned_ = 0;
  // Whether this connection's role may VACUUM the pending table: 1 yes,
  // 0 no, -1 not asked yet.
  int can_vacuum_ = -1;
};

// Writes messages on the application's connection inside its open
// transaction. `conn` is not owned.
class PgOutbox {
 public:
  explicit PgOutbox(PGconn* conn, base::Clock* clock = base::Clock::Real());
  // Inserts `m` (see PrepareForEnqueue). Fails with FailedPrecondition when
  // the connection is not inside a transaction block.
  // Holds a per-key advisory lock until the transaction ends, so
  // concurrent transactions for one key serialize (that is what keeps
  // per-key order under concurrency); different keys do not wait.
  absl::Status Enqueue(Message& m);
  // Enqueue for several messages with one statement (one round trip).
  // Same preconditions; on error nothing of the batch is inserted (the
  // statement fails as a whole) and the transaction is aborted.
  absl::Status EnqueueBatch(std::vector<Message>& messages);

 private:
  PGconn* conn_;
  base::Clock* clock_;
};

class PgInbox {
 public:
  // Runs inside the transaction; write through `conn`. Non-OK rolls back.
  using Handler = std::function<absl::Status(PGconn* conn, const Message& m)>;

  PgInbox(PGconn* conn, std::string consumer,
          base::Clock* clock = base::Clock::Real());
  // BEGIN; insert (consumer, id) ON CONFLICT DO NOTHING; handler; COMMIT.
  // A concurrent duplicate waits for the first to commit, then is skipped.
  // Precondition: no transaction open on `conn`.
  absl::StatusOr<InboxResult> Process(const Message& m, const Handler& handler);
  // Process for several messages in ONE transaction, recording all ids
  // with one statement. Any handler error rolls back the whole batch and is
  // returned; process one by one then. Results are in input order.
  absl::StatusOr<std::vector<InboxResult>> ProcessBatch(
      const std::vector<const Message*>& messages, const Handler& handler);

  // Runs once per batch with every message not seen before (in input
  // order), so the consumer can write its effects with one statement
  // instead of one round trip per message. Non-OK rolls back the batch.
  using BatchHandler = std::function<absl::Status(
      PGconn* conn, const std::vector<const Message*>& fresh)>;
  // ProcessBatch with a BatchHandler; same transaction and results.
  absl::StatusOr<std::vector<InboxResult>> ProcessBatch(
      const std::vector<const Message*>& messages, const BatchHandler& handler);

 private:
  PGconn* conn_;
  std::string consumer_;
  base::Clock* clock_;
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_PG_STORE_H_
