#include "pantau/outbox/sdk_instrumentation.h"

#include <optional>

#include "pantau/sdk/propagation.h"

namespace pantau::outbox {
namespace {

// Messaging semantic-convention attribute names (the SDK's semconv.h has
// no messaging section yet).
constexpr char kMessagingSystem[] = "messaging.system";
constexpr char kDestinationName[] = "messaging.destination.name";
constexpr char kMessageId[] = "messaging.message.id";
constexpr char kOperationType[] = "messaging.operation.type";
constexpr char kOperationName[] = "messaging.operation.name";
constexpr char kConsumerGroup[] = "messaging.consumer.group.name";
constexpr char kErrorType[] = "error.type";

sdk::Registry& Reg(const SdkInstrumentationOptions& o) {
  return o.registry != nullptr ? *o.registry : sdk::Registry::Default();
}

// The message's trace context, when its headers carry a valid one.
std::optional<sdk::SpanContext> MessageContext(const Message& m) {
  auto tp = m.headers.find(kTraceparentHeader);
  if (tp == m.headers.end()) return std::nullopt;
  std::optional<sdk::SpanContext> ctx = sdk::ParseTraceparent(tp->second);
  if (!ctx) return std::nullopt;
  auto ts = m.headers.find(kTracestateHeader);
  if (ts != m.headers.end()) {
    std::optional<std::string> state = sdk::ParseTracestate({ts->second});
    if (state) ctx->trace_state = *state;
  }
  ctx->is_remote = true;
  return ctx;
}

void WriteContext(const sdk::SpanContext& ctx, Message& m) {
  if (!ctx.IsValid()) return;
  m.headers[kTraceparentHeader] = sdk::FormatTraceparent(ctx);
  if (!ctx.trace_state.empty()) {
    m.headers[kTracestateHeader] = ctx.trace_state;
  } else {
    m.headers.erase(kTracestateHeader);
  }
}

class SdkSpanScope : public SpanScope {
 public:
  // `activate`: make the span current on this thread until End.
  SdkSpanScope(sdk::Span span, bool activate) : span_(std::move(span)) {
    if (activate) scope_.emplace(span_);
  }
  void End(const absl::Status& result) override {
    if (!result.ok()) {
      span_.SetStatus(sdk::StatusCode::kError, std::string(result.message()));
      span_.SetAttribute(kErrorType, absl::StatusCodeToString(result.code()));
    }
    scope_.reset();
    span_.End();
  }
  const sdk::Span& span() const { return span_; }

 private:
  sdk::Span span_;
  std::optional<sdk::Scope> scope_;
};

std::string SpanName(std::string_view op, const std::string& topic) {
  std::string name(op);
  name += ' ';
  name += topic;
  return name;
}

}  // namespace

SdkInstrumentation::SdkInstrumentation(SdkInstrumentationOptions options)
    : options_(options),
      pending_(
          Reg(options).GetGauge("outbox_pending_messages",
                                "Messages in the outbox not yet delivered.")),
      oldest_age_(Reg(options).GetGauge(
          "outbox_oldest_pending_age_seconds",
          "Age of the oldest undelivered outbox message (relay lag).", "s")),
      dead_(Reg(options).GetGauge("outbox_dead_letter_messages",
                                  "Dead-lettered messages in the outbox.")),
      published_(Reg(options).CounterFamily(
          {.name = "outbox_published_total",
           .help = "Messages published and acknowledged by the broker.",
           .label_names = {"topic"}})),
      failed_(
          Reg(options).CounterFamily({.name = "outbox_publish_failures_total",
                                      .help = "Failed publish attempts.",
                                      .label_names = {"topic"}})),
      dead_lettered_(Reg(options).CounterFamily(
          {.name = "outbox_dead_lettered_total",
           .help = "Messages moved to the dead letters.",
           .label_names = {"topic"}})),
      latency_(Reg(options).GetHistogram(
          "outbox_publish_latency_seconds",
          "Time from enqueue to the broker's publish acknowledgement.",
          sdk::ExponentialBuckets(0.001, 2, 16), "s")),
      inbox_processed_(Reg(options).CounterFamily(
          {.name = "inbox_processed_total",
           .help = "Messages processed by an inbox consumer.",
           .label_names = {"consumer"}})),
      inbox_duplicates_(Reg(options).CounterFamily(
          {.name = "inbox_duplicates_total",
           .help = "Redelivered messages an inbox skipped.",
           .label_names = {"consumer"}})) {}

sdk::Tracer& SdkInstrumentation::tracer() const {
  sdk::TracerProvider& p = options_.provider != nullptr
                               ? *options_.provider
                               : sdk::GlobalTracerProvider();
  return p.GetTracer("pantau.outbox", "0.1.0");
}

void SdkInstrumentation::InjectContext(Message& m) {
  const sdk::SpanContext* active = sdk::ActiveSpanContext();
  if (active != nullptr) WriteContext(*active, m);
}

std::unique_ptr<SpanScope> SdkInstrumentation::StartPublish(
    Message& m, std::string_view system) {
  std::optional<sdk::SpanContext> parent = MessageContext(m);
  sdk::StartSpanOptions o;
  o.kind = sdk::SpanKind::kProducer;
  o.parent = parent ? &*parent : nullptr;
  // The relay has no request of its own: without a stored context the
  // publish starts a trace rather than joining whatever is active.
  o.root = !parent;
  sdk::Span span =
      tracer().StartSpan(SpanName("publish", m.topic), std::move(o));
  span.SetAttribute(kMessagingSystem, system);
  span.SetAttribute(kDestinationName, m.topic);
  span.SetAttribute(kMessageId, m.id);
  span.SetAttribute(kOperationType, "publish");
  span.SetAttribute(kOperationName, "publish");
  WriteContext(span.context(), m);
  return std::make_unique<SdkSpanScope>(std::move(span), false);
}

std::unique_ptr<SpanScope> SdkInstrumentation::StartProcess(
    const Message& m, std::string_view system, std::string_view consumer) {
  std::optional<sdk::SpanContext> parent = MessageContext(m);
  sdk::StartSpanOptions o;
  o.kind = sdk::SpanKind::kConsumer;
  o.parent = parent ? &*parent : nullptr;
  o.root = !parent;
  sdk::Span span =
      tracer().StartSpan(SpanName("process", m.topic), std::move(o));
  span.SetAttribute(kMessagingSystem, system);
  span.SetAttribute(kDestinationName, m.topic);
  span.SetAttribute(kMessageId, m.id);
  span.SetAttribute(kOperationType, "process");
  span.SetAttribute(kOperationName, "process");
  span.SetAttribute(kConsumerGroup, consumer);
  return std::make_unique<SdkSpanScope>(std::move(span), true);
}

void SdkInstrumentation::OnPublished(const Message& m, absl::Duration latency) {
  published_.WithLabels({m.topic}).Inc();
  latency_.Observe(absl::ToDoubleSeconds(latency));
}

void SdkInstrumentation::OnPublishFailed(const Message& m,
                                         const absl::Status& s) {
  failed_.WithLabels({m.topic}).Inc();
}

void SdkInstrumentation::OnDeadLettered(const Message& m) {
  dead_lettered_.WithLabels({m.topic}).Inc();
}

void SdkInstrumentation::OnStats(const OutboxStats& stats) {
  pending_.Set(static_cast<double>(stats.pending));
  dead_.Set(static_cast<double>(stats.dead));
  oldest_age_.Set(absl::ToDoubleSeconds(stats.oldest_pending_age));
}

void SdkInstrumentation::OnInboxProcessed(std::string_view consumer) {
  inbox_processed_.WithLabels({consumer}).Inc();
}

void SdkInstrumentation::OnInboxDuplicate(std::string_view consumer) {
  inbox_duplicates_.WithLabels({consumer}).Inc();
}

}  // namespace pantau::outbox
