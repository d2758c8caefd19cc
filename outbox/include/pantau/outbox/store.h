// What the relay, the dead-letter tools and cleanup need from a store.
// SqliteStore and PgStore implement it; the business-side write (Enqueue)
// is store-specific because it runs on the application's own connection.
//
// Ordering contract: Claim takes the earliest due, unleased messages in
// sequence order and keeps, for each key, only a prefix of that key's
// pending messages: a key whose earliest pending message is not in the
// batch (leased by another relay, or waiting for a retry) contributes
// nothing. So one relay at a time owns a key's front, and a message that
// fails (it stays pending, with next_attempt_at in the future) holds back
// exactly the later messages of its own key. A dead-lettered message stops
// being pending and releases its key.
//
// Thread safety: a store object is used by one thread at a time (it owns
// one connection); open one per relay.
#ifndef PANTAU_OUTBOX_STORE_H_
#define PANTAU_OUTBOX_STORE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pantau/outbox/instrumentation.h"
#include "pantau/outbox/message.h"

namespace pantau::outbox {

// The result of one publish, handed back to the store.
struct Outcome {
  std::string id;
  bool delivered = false;
  // Not attempted (an earlier message of its key failed in this round):
  // only the lease is released.
  bool skipped = false;
  // When not delivered:
  std::string error;
  absl::Time next_attempt_at;
  bool dead = false;
};

class RelayStore {
 public:
  virtual ~RelayStore() = default;

  // Leases up to `limit` due messages to `owner` until now + lease, in
  // sequence order, following the ordering contract above.
  virtual absl::StatusOr<std::vector<Message>> Claim(std::string_view owner,
                                                     int limit, absl::Time now,
                                                     absl::Duration lease) = 0;
  // Records the publish results of a claimed batch in one transaction:
  // delivered rows get delivered_at = now; failed ones attempts + 1,
  // last_error and next_attempt_at, or the dead-letter state. Releases the
  // leases.
  virtual absl::Status Complete(std::string_view owner,
                                const std::vector<Outcome>& outcomes,
                                absl::Time now) = 0;
  virtual absl::StatusOr<OutboxStats> Stats(absl::Time now) = 0;
  // Whether Complete keeps delivered rows (state delivered, deleted by
  // CleanupDelivered after the retention; the default) or deletes them at
  // once. Keeping adds a narrow delivered row (schema 2) and leaves the
  // delete to the cleanup, in bulk; deleting at once removes the message
  // row at delivery. The relay sets it from RelayOptions::retention (zero:
  // delete at once).
  virtual void SetKeepDelivered(bool keep) { (void)keep; }
  // Whether Claim may be called again before the previous batch is
  // Completed (its rows stay leased to this owner meanwhile, which keeps
  // their keys out of the new claim). Relay::Run then claims the next batch
  // while the previous one is being published.
  virtual bool CanClaimAhead() const { return false; }

  // Dead letters in id order, starting after `after_id` (empty: first).
  virtual absl::StatusOr<std::vector<Message>> ListDead(
      int limit, std::string_view after_id) = 0;
  // Makes dead letters pending again with attempts reset, due at `now`.
  // Empty `ids` replays every dead letter. Returns how many were replayed.
  virtual absl::StatusOr<int64_t> Replay(const std::vector<std::string>& ids,
                                         absl::Time now) = 0;
  // Deletes up to `limit` delivered rows (and their messages) delivered
  // before `before`, in one transaction. Returns the count; fewer than
  // `limit` means none are left. A bounded transaction keeps writers (the
  // whole database on SQLite) and the relay's thread from waiting for
  // minutes of deliveries to be deleted at once.
  virtual absl::StatusOr<int64_t> CleanupDelivered(absl::Time before,
                                                   int64_t limit) = 0;
  // Deletes up to `limit` inbox records processed before `before`.
  // Returns the count, as CleanupDelivered.
  virtual absl::StatusOr<int64_t> CleanupInbox(absl::Time before,
                                               int64_t limit) = 0;

  // Blocks until new messages may be there or `timeout` passes.
  // PostgreSQL wakes on NOTIFY; SQLite waits for Wake() or the timeout.
  virtual absl::Status WaitForWork(absl::Duration timeout) = 0;
  // Makes a current or the next WaitForWork return at once. Thread-safe.
  virtual void Wake() = 0;
};

// The result of handing a message to an inbox.
enum class InboxResult { kProcessed, kDuplicate };

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_STORE_H_
