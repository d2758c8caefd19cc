// The relay: moves committed messages from a store to a transport.
//
// Each round claims a batch (leased, so several relays on one PostgreSQL
// database share the work; see the ordering contract in store.h),
// publishes it in waves that keep each key's messages in order, and
// records the outcome: delivered, retry later with exponential backoff and
// jitter, or dead-lettered after `max_attempts`. Between rounds it waits for
// new work (PostgreSQL LISTEN/NOTIFY, or Wake()). It also refreshes the
// pending/lag gauges and deletes delivered rows older than `retention`.
//
// Delivery is at least once: a relay killed after publishing but before
// recording it publishes again after the lease expires. The message id
// makes that harmless (JetStream's Nats-Msg-Id dedup, the consumer inbox).
//
// Thread safety: RunOnce/Maintain/Run from one thread; Stop from any.
#ifndef PANTAU_OUTBOX_RELAY_H_
#define PANTAU_OUTBOX_RELAY_H_

#include <atomic>
#include <cstdint>
#include <random>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/time.h"
#include "pantau/outbox/store.h"
#include "pantau/outbox/transport.h"

namespace pantau::outbox {

struct RelayOptions {
  // Names this relay in leases; default "<hostname>-<pid>-<random>".
  std::string relay_id;
  // Messages claimed per round.
  int batch_size = 256;
  // How long a claim is exclusive. Must exceed publish_timeout, or another
  // relay may publish the same message meanwhile (harmless, but wasteful).
  absl::Duration lease = absl::Seconds(30);
  // How long one Publish may wait for acknowledgements.
  absl::Duration publish_timeout = absl::Seconds(10);
  // Longest idle wait between rounds; NOTIFY/Wake cut it short.
  absl::Duration poll_interval = absl::Milliseconds(250);
  // Attempts before a message is dead-lettered (>= 1).
  int max_attempts = 10;
  // Retry n waits min(backoff_max, backoff_initial * 2^(n-1)), reduced by
  // up to `jitter` (a fraction in [0, 1]) at random so retries spread out.
  absl::Duration backoff_initial = absl::Milliseconds(500);
  absl::Duration backoff_max = absl::Minutes(5);
  double jitter = 0.2;
  // Delivered rows are deleted this long after delivery. Zero deletes them
  // as they are delivered, in the same statement that records the batch:
  // the cheapest path (the row is not rewritten), for when nobody looks at
  // delivered messages.
  absl::Duration retention = absl::Hours(24);
  // Inbox records are deleted this long after processing (the dedup
  // window); zero leaves the inbox alone (a consumer-side process may own
  // its cleanup instead).
  absl::Duration inbox_window = absl::ZeroDuration();
  // How often Maintain runs cleanup, and refreshes stats.
  absl::Duration cleanup_interval = absl::Minutes(1);
  absl::Duration stats_interval = absl::Seconds(5);
  // Seed for the jitter; 0 picks one at random.
  uint64_t seed = 0;
};

// The delay before retry `attempts` (>= 1), with `u` in [0, 1) drawing the
// jitter. Exposed for tests and docs.
absl::Duration BackoffDelay(const RelayOptions& options, int attempts,
                            double u);

class Relay {
 public:
  // `store`, `transport` and `clock` are not owned and must outlive this.
  Relay(RelayStore* store, Transport* transport, RelayOptions options,
        base::Clock* clock = base::Clock::Real());

  // One round: claim, publish, record. Returns how many were claimed.
  absl::StatusOr<int> RunOnce();
  // Refreshes stats and runs cleanup when their intervals have passed.
  absl::Status Maintain();
  // Loops RunOnce/Maintain until Stop(); store errors are logged and
  // retried after poll_interval.
  void Run();
  void Stop();

  const RelayOptions& options() const { return options_; }

 private:
  // Publishes a claimed batch in per-key waves; returns the outcomes for
  // Complete.
  std::vector<Outcome> Publish(std::vector<Message> batch,
                               absl::Time claimed_at);
  // Run for stores that can claim ahead: claim and record on this thread
  // while the previous batch is published on another.
  void RunPipelined();

  RelayStore* store_;
  Transport* transport_;
  RelayOptions options_;
  base::Clock* clock_;
  std::mt19937_64 rng_;
  std::atomic<bool> stop_{false};
  absl::Time next_stats_ = absl::InfinitePast();
  absl::Time next_cleanup_ = absl::InfinitePast();
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_RELAY_H_
