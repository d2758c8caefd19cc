// The seam through which the outbox reports traces and metrics.
//
// The library calls one process-wide Instrumentation at each step of a
// message's life: enqueue (to put the producer's span context into the
// headers), relay publish (a PRODUCER span continuing that context),
// consumer process (a CONSUMER span), and counters and gauges along the
// way. The default does nothing; `pantau_outbox_sdk` provides one backed by
// pantau::sdk, and OutboxCounters (below) keeps plain in-memory counts for
// apps and tests that want numbers without an SDK.
//
// Thread safety: implementations must be safe to call from any thread.
// SetInstrumentation is not synchronised with calls in flight; install once
// at start-up.
#ifndef PANTAU_OUTBOX_INSTRUMENTATION_H_
#define PANTAU_OUTBOX_INSTRUMENTATION_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pantau/outbox/message.h"

namespace pantau::outbox {

// Snapshot of the outbox table, taken by the relay.
struct OutboxStats {
  int64_t pending = 0;
  int64_t dead = 0;
  // created_at of the oldest pending message; InfiniteFuture() when none.
  absl::Time oldest_pending = absl::InfiniteFuture();
  // now - oldest_pending, zero when nothing is pending.
  absl::Duration oldest_pending_age = absl::ZeroDuration();
};

// An open span; End is called exactly once.
class SpanScope {
 public:
  virtual ~SpanScope() = default;
  virtual void End(const absl::Status& result) = 0;
};

class Instrumentation {
 public:
  virtual ~Instrumentation() = default;

  // At enqueue, when the message has no `traceparent` yet: may add
  // trace-context headers from the caller's current span.
  virtual void InjectContext(Message& m) {}
  // A `publish <topic>` PRODUCER span, child of the message's context.
  // `system` is the messaging.system value ("nats", "webhook", ...). May
  // rewrite the trace-context headers of `m` (the copy about to be
  // published) so the consumer's span becomes a child of this one.
  virtual std::unique_ptr<SpanScope> StartPublish(Message& m,
                                                  std::string_view system) {
    return nullptr;
  }
  // A `process <topic>` CONSUMER span, child of the message's context,
  // active on this thread until End (so the handler's own spans and logs
  // belong to it).
  virtual std::unique_ptr<SpanScope> StartProcess(const Message& m,
                                                  std::string_view system,
                                                  std::string_view consumer) {
    return nullptr;
  }

  // `latency` is from created_at to the broker's acknowledgement.
  virtual void OnPublished(const Message& m, absl::Duration latency) {}
  virtual void OnPublishFailed(const Message& m, const absl::Status& s) {}
  virtual void OnDeadLettered(const Message& m) {}
  virtual void OnStats(const OutboxStats& stats) {}
  virtual void OnInboxProcessed(std::string_view consumer) {}
  virtual void OnInboxDuplicate(std::string_view consumer) {}
};

// The installed instrumentation; a no-op one when none was set. Never null.
Instrumentation* GetInstrumentation();
// Installs `inst` (not owned; must outlive all outbox use), or the no-op
// one when null.
void SetInstrumentation(Instrumentation* inst);

// In-memory counters: totals, last stats and a publish latency histogram.
class OutboxCounters : public Instrumentation {
 public:
  // Upper bounds (ms) of the latency buckets; the last bucket is +Inf.
  static constexpr std::array<double, 12> kLatencyBoundsMs = {
      1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 30000};

  void OnPublished(const Message& m, absl::Duration latency) override;
  void OnPublishFailed(const Message& m, const absl::Status& s) override;
  void OnDeadLettered(const Message& m) override;
  void OnStats(const OutboxStats& stats) override;
  void OnInboxProcessed(std::string_view consumer) override;
  void OnInboxDuplicate(std::string_view consumer) override;

  std::atomic<int64_t> published{0};
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> dead_lettered{0};
  std::atomic<int64_t> inbox_processed{0};
  std::atomic<int64_t> inbox_duplicates{0};
  std::atomic<int64_t> pending{0};
  std::atomic<int64_t> oldest_pending_age_ms{0};
  std::array<std::atomic<int64_t>, kLatencyBoundsMs.size() + 1>
      latency_buckets{};
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_INSTRUMENTATION_H_
