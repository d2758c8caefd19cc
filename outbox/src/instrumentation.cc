#include "pantau/outbox/instrumentation.h"

#include <algorithm>

namespace pantau::outbox {
namespace {

Instrumentation* NoopInstrumentation() {
  static auto* noop = new Instrumentation();
  return noop;
}

std::atomic<Instrumentation*> g_instrumentation{nullptr};

}  // namespace

Instrumentation* GetInstrumentation() {
  Instrumentation* inst = g_instrumentation.load(std::memory_order_acquire);
  return inst != nullptr ? inst : NoopInstrumentation();
}

void SetInstrumentation(Instrumentation* inst) {
  g_instrumentation.store(inst, std::memory_order_release);
}

void OutboxCounters::OnPublished(const Message& m, absl::Duration latency) {
  published.fetch_add(1, std::memory_order_relaxed);
  double ms = absl::ToDoubleMilliseconds(latency);
  size_t i =
      std::lower_bound(kLatencyBoundsMs.begin(), kLatencyBoundsMs.end(), ms) -
      kLatencyBoundsMs.begin();
  latency_buckets[i].fetch_add(1, std::memory_order_relaxed);
}

void OutboxCounters::OnPublishFailed(const Message& m, const absl::Status& s) {
  failed.fetch_add(1, std::memory_order_relaxed);
}

void OutboxCounters::OnDeadLettered(const Message& m) {
  dead_lettered.fetch_add(1, std::memory_order_relaxed);
}

void OutboxCounters::OnStats(const OutboxStats& stats) {
  pending.store(stats.pending, std::memory_order_relaxed);
  oldest_pending_age_ms.store(
      absl::ToInt64Milliseconds(stats.oldest_pending_age),
      std::memory_order_relaxed);
}

void OutboxCounters::OnInboxProcessed(std::string_view consumer) {
  inbox_processed.fetch_add(1, std::memory_order_relaxed);
}

void OutboxCounters::OnInboxDuplicate(std::string_view consumer) {
  inbox_duplicates.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace pantau::outbox
