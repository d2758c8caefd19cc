// Tracing: TracerProvider → Tracer → Span, with a per-thread active span
// set by Scope.
//
//   auto provider = std::make_shared<sdk::TracerProvider>(options);
//   sdk::Tracer& tracer = provider->GetTracer("shop.checkout", "1.0");
//   sdk::Span span = tracer.StartSpan("charge", {.kind = SpanKind::kClient});
//   sdk::Scope scope(span);             // children and logs see this span
//   span.SetAttribute("payment.amount", 42);
//   ...                                 // span ends when it goes out of scope
//
// A span that the sampler drops is "non-recording": it still has a valid
// context (so it propagates, with the sampled flag off) but records nothing
// and costs no allocation.
//
// Thread safety: TracerProvider and Tracer are safe to share between
// threads. A Span belongs to one thread at a time (move it to hand it
// over). The active span is per thread.
#ifndef PANTAU_SDK_TRACE_H_
#define PANTAU_SDK_TRACE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/time.h"
#include "pantau/sdk/attributes.h"
#include "pantau/sdk/resource.h"
#include "pantau/sdk/sampler.h"
#include "pantau/sdk/span_context.h"
#include "pantau/sdk/span_data.h"

namespace pantau::sdk {

class TracerProvider;

struct SpanLimits {
  // Beyond these, further items are dropped and counted in the span's
  // dropped_* fields (the OpenTelemetry defaults).
  uint32_t max_attributes = 128;
  uint32_t max_events = 128;
  uint32_t max_links = 128;
};

struct TracerProviderOptions {
  // Default: Resource::Create().
  Resource resource = Resource::Create();
  // Default (nullptr): ParentBased(AlwaysOn).
  std::unique_ptr<Sampler> sampler;
  // Where ended sampled spans go, in order. Default: none (spans are
  // sampled and dropped, which still propagates context).
  std::vector<std::shared_ptr<SpanProcessor>> processors;
  // Time source for span timestamps; default (nullptr) the system clock.
  // Not owned; must outlive the provider.
  const base::Clock* clock = nullptr;
  SpanLimits limits;
};

struct StartSpanOptions {
  SpanKind kind = SpanKind::kInternal;
  // The parent, e.g. extracted from an incoming request. nullptr (default):
  // the active span on this thread, if any.
  const SpanContext* parent = nullptr;
  // Start a new trace even if a span is active. Default false.
  bool root = false;
  // 0 (default): now.
  int64_t start_time_unix_nano = 0;
  Attributes attributes;
  std::vector<SpanLink> links;
};

// A span handle. Ends the span on destruction if End() was not called.
class Span {
 public:
  // A non-recording span with an invalid context.
  Span() = default;
  Span(Span&& other) noexcept;
  Span& operator=(Span&& other) noexcept;
  ~Span() { End(); }

  bool IsRecording() const { return data_ != nullptr; }
  // Valid as long as this handle (also after End()).
  const SpanContext& context() const { return context_; }

  // Each of these does nothing on a non-recording or ended span.
  template <typename V>
  void SetAttribute(AttributeKey key, V&& value) {
    if (data_ == nullptr) return;
    // The value is built in its place, not moved through temporaries (a
    // variant move is a jump-table visit): this is most of a sampled
    // span's cost.
    if (AttributeValue* existing = FindAttributeValue(key.view())) {
      internal::AssignAttributeValue(*existing, std::forward<V>(value));
    } else if (HasRoomForAttribute()) {
      data_->attributes.emplace_back(
          std::move(key),
          internal::LazyAttributeValue<V&&>{std::forward<V>(value)});
    }
  }
  void SetAttributeValue(AttributeKey key, AttributeValue value);
  void AddEvent(std::string name, Attributes attributes = {},
                int64_t time_unix_nano = 0);
  void AddLink(const SpanContext& context, Attributes attributes = {});
  // kError with a description, or kOk (which wins over any later kError,
  // as the specification says). Descriptions are kept for kError only.
  void SetStatus(StatusCode code, std::string_view description = "");
  void UpdateName(std::string name);
  // Adds an "exception" event with exception.type and exception.message.
  void RecordException(std::string_view type, std::string_view message);

  // Ends the span (0: now) and hands it to the processors. Idempotent.
  void End(int64_t end_time_unix_nano = 0) {
    if (data_ != nullptr) EndRecording(end_time_unix_nano);
  }

 private:
  friend class Tracer;
  Span(std::unique_ptr<SpanData> data, const TracerProvider* provider)
      : data_(std::move(data)), provider_(provider), context_(data_->context) {}
  // A non-recording span: these ids, unsampled, the parent's trace state.
  Span(const TraceId& trace_id, const SpanId& span_id,
       const SpanContext* parent);
  // Precondition for both: recording. The value of attribute `name`, or
  // nullptr.
  AttributeValue* FindAttributeValue(std::string_view name);
  // Whether one more attribute fits the limit; counts a drop when not.
  bool HasRoomForAttribute();
  // End() of a recording span.
  void EndRecording(int64_t end_time_unix_nano);

  std::unique_ptr<SpanData> data_;  // null when not recording or ended
  const TracerProvider* provider_ = nullptr;
  // A copy kept in the handle, so a Scope pointing at it stays valid after
  // End() hands data_ to the processors.
  SpanContext context_;
};

// Makes `span` the active span on this thread until destruction, restoring
// the previous one. Precondition: `span` outlives the scope and is not
// moved while it is active; scopes nest strictly (destroy in reverse
// order).
class Scope {
 public:
  explicit Scope(const Span& span) : Scope(span.context()) {}
  explicit Scope(const SpanContext& context)
      : previous_(internal::tls_active_span_context) {
    internal::tls_active_span_context = &context;
  }
  ~Scope() { internal::tls_active_span_context = previous_; }
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const SpanContext* previous_;
};

class Tracer {
 public:
  // Starts a span; see StartSpanOptions for how the parent is chosen.
  Span StartSpan(std::string_view name, StartSpanOptions options = {}) const;
  const InstrumentationScope& scope() const { return scope_; }

 private:
  friend class TracerProvider;
  Tracer(const TracerProvider* provider, InstrumentationScope scope)
      : provider_(provider), scope_(std::move(scope)) {}
  // StartSpan once the sampler said yes (kept out of line so that the
  // unsampled path stays small).
  Span StartRecordingSpan(std::string_view name, StartSpanOptions& options,
                          const SpanContext* parent,
                          const TraceId& trace_id) const;

  const TracerProvider* provider_;
  InstrumentationScope scope_;
};

class TracerProvider {
 public:
  explicit TracerProvider(TracerProviderOptions options = {});
  // Shuts down (flushing processors) if Shutdown was not called.
  ~TracerProvider();
  TracerProvider(const TracerProvider&) = delete;
  TracerProvider& operator=(const TracerProvider&) = delete;

  // The tracer for an instrumentation scope (library or component), made
  // on first use; valid as long as the provider.
  Tracer& GetTracer(std::string_view name, std::string_view version = "");

  // Exports everything ended so far, waiting up to `timeout`.
  absl::Status ForceFlush(absl::Duration timeout = absl::Seconds(10));
  // Flushes and stops the processors; spans ended afterwards are dropped.
  // Idempotent.
  absl::Status Shutdown(absl::Duration timeout = absl::Seconds(10));

  const Resource& resource() const { return resource_; }
  int64_t NowUnixNano() const;

 private:
  friend class Tracer;
  friend class Span;
  void OnEnd(std::unique_ptr<SpanData> span) const;

  Resource resource_;
  std::unique_ptr<Sampler> sampler_;
  // internal::SamplerShortcut of sampler_.
  uint8_t sampler_shortcut_;
  std::vector<std::shared_ptr<SpanProcessor>> processors_;
  const base::Clock* clock_;
  SpanLimits limits_;
  std::atomic<bool> shut_down_{false};
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Tracer>> tracers_ ABSL_GUARDED_BY(mu_);
};

// The process-wide provider that instrumentation uses when not given one.
// Until set, a provider that samples nothing and exports nothing (spans
// still propagate context).
TracerProvider& GlobalTracerProvider();
// Replaces it; the previous provider is kept alive (never destroyed) since
// spans and tracers may still point at it.
void SetGlobalTracerProvider(std::shared_ptr<TracerProvider> provider);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_TRACE_H_
