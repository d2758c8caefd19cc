// The consuming loop: fetches from a Source, hands each message to an
// inbox (SqliteInbox / PgInbox Process, bound to a handler), then acks.
//
// Ack follows the inbox commit, so a crash in between redelivers a message
// whose effect is already committed; the inbox sees the id again, skips
// the handler, and the redelivery is acked and counted as a duplicate.
//
// With a Source that CanFetchAhead (NatsSource), the next batch is fetched
// on a worker thread while the current one is handled, so the broker's
// deliveries overlap the inbox transaction instead of alternating with it.
// Batches are still handled one at a time, in the order fetched. A batch
// fetched ahead but never handled (the Consumer is destroyed) is naked for
// redelivery at once. A batch fetched ahead waits for one round of handling
// before its own, which counts against the broker's ack wait
// (NatsSourceOptions::ack_wait): keep a round well under it, or the broker
// redelivers (harmless, the inbox skips the copies, but wasted work).
//
// Thread safety: PollOnce/Run from one thread; Stop from any.
#ifndef PANTAU_OUTBOX_CONSUMER_H_
#define PANTAU_OUTBOX_CONSUMER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pantau/outbox/store.h"
#include "pantau/outbox/transport.h"

namespace pantau::outbox {

namespace internal {
template <typename T>
class BackgroundJob;
}  // namespace internal

struct ConsumerOptions {
  // Messages fetched per round.
  int batch_size = 64;
  // Longest wait for a message in one fetch.
  absl::Duration fetch_timeout = absl::Seconds(1);
  // Redelivery delay after the handler failed.
  absl::Duration retry_delay = absl::Seconds(1);
};

// Runs the handler and records the id in one transaction; see
// SqliteInbox::Process and PgInbox::Process.
using InboxFn = std::function<absl::StatusOr<InboxResult>(const Message&)>;
// Handles a whole fetched batch in one transaction; see ProcessBatch.
using InboxBatchFn = std::function<absl::StatusOr<std::vector<InboxResult>>(
    const std::vector<const Message*>&)>;

class Consumer {
 public:
  // `source` not owned. `name` is the consumer name in spans and metrics.
  // With `batch`, each fetched batch first goes through it in one
  // transaction; when that fails (some handler failed), the batch is
  // retried message by message through `inbox`, so only the failing
  // message is naked. In batch mode the handlers run under the batch's
  // last process span rather than each under its own.
  Consumer(Source* source, std::string name, InboxFn inbox,
           ConsumerOptions options = {}, InboxBatchFn batch = nullptr);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  // One fetch. Returns how many messages were handled (processed or
  // duplicate); a failed handler naks its message and is not counted.
  absl::StatusOr<int> PollOnce();
  // Loops PollOnce until Stop(); errors are logged and retried.
  void Run();
  void Stop() { stop_ = true; }

 private:
  using Batch = std::vector<std::unique_ptr<Delivery>>;
  using FetchResult = absl::StatusOr<Batch>;
  // Handles one fetched batch; see PollOnce.
  int Handle(Batch& batch);

  Source* source_;
  std::string name_;
  InboxFn inbox_;
  ConsumerOptions options_;
  InboxBatchFn batch_;
  std::atomic<bool> stop_{false};
  // Set when the source can fetch ahead: the fetch of the next batch.
  std::unique_ptr<internal::BackgroundJob<FetchResult>> ahead_;
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_CONSUMER_H_
