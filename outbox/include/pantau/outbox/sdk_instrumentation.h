// Traces and metrics for the outbox through pantau::sdk. Link
// `pantau_outbox_sdk` and install once at start-up:
//
//   static pantau::outbox::SdkInstrumentation inst;   // global provider and
//   pantau::outbox::SetInstrumentation(&inst);        // default registry
//
// Tracing follows the OpenTelemetry messaging conventions. At enqueue the
// active span's context goes into the message's `traceparent` (and
// `tracestate`). The relay's `publish <topic>` span (PRODUCER) is its
// child, and the published copy carries the publish span's context, so the
// consumer's `process <topic>` span (CONSUMER) is the publish span's
// child: one trace from the request that enqueued to the handler that
// consumed. Spans carry messaging.system, messaging.destination.name,
// messaging.message.id, messaging.operation.type/name (and
// messaging.consumer.group.name on process spans).
//
// Metrics (Prometheus names):
//   outbox_pending_messages, outbox_oldest_pending_age_seconds,
//   outbox_dead_letter_messages                          gauges
//   outbox_published_total{topic}, outbox_publish_failures_total{topic},
//   outbox_dead_lettered_total{topic}                    counters
//   outbox_publish_latency_seconds   histogram, enqueue to broker ack
//   inbox_processed_total{consumer}, inbox_duplicates_total{consumer}
//
// Thread safety: all methods are thread-safe.
#ifndef PANTAU_OUTBOX_SDK_INSTRUMENTATION_H_
#define PANTAU_OUTBOX_SDK_INSTRUMENTATION_H_

#include "pantau/outbox/instrumentation.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/trace.h"

namespace pantau::outbox {

struct SdkInstrumentationOptions {
  // Where spans go; nullptr (default): sdk::GlobalTracerProvider() at each
  // span, so a provider installed later is picked up. Not owned.
  sdk::TracerProvider* provider = nullptr;
  // Where metrics go; nullptr (default): sdk::Registry::Default(). Not
  // owned.
  sdk::Registry* registry = nullptr;
};

class SdkInstrumentation : public Instrumentation {
 public:
  explicit SdkInstrumentation(SdkInstrumentationOptions options = {});

  void InjectContext(Message& m) override;
  std::unique_ptr<SpanScope> StartPublish(Message& m,
                                          std::string_view system) override;
  std::unique_ptr<SpanScope> StartProcess(const Message& m,
                                          std::string_view system,
                                          std::string_view consumer) override;
  void OnPublished(const Message& m, absl::Duration latency) override;
  void OnPublishFailed(const Message& m, const absl::Status& s) override;
  void OnDeadLettered(const Message& m) override;
  void OnStats(const OutboxStats& stats) override;
  void OnInboxProcessed(std::string_view consumer) override;
  void OnInboxDuplicate(std::string_view consumer) override;

 private:
  sdk::Tracer& tracer() const;

  SdkInstrumentationOptions options_;
  sdk::Gauge& pending_;
  sdk::Gauge& oldest_age_;
  sdk::Gauge& dead_;
  sdk::Family<sdk::Counter>& published_;
  sdk::Family<sdk::Counter>& failed_;
  sdk::Family<sdk::Counter>& dead_lettered_;
  sdk::Histogram& latency_;
  sdk::Family<sdk::Counter>& inbox_processed_;
  sdk::Family<sdk::Counter>& inbox_duplicates_;
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_SDK_INSTRUMENTATION_H_
