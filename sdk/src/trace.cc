#include "pantau/sdk/trace.h"

#include <chrono>

#include "pantau/sdk/semconv.h"

namespace pantau::sdk {

// ---------------------------------------------------------------------------
// Span

Span::Span(Span&& other) noexcept
    : data_(std::move(other.data_)),
      provider_(other.provider_),
      context_(std::move(other.context_)) {}

Span& Span::operator=(Span&& other) noexcept {
  if (this != &other) {
    End();
    data_ = std::move(other.data_);
    provider_ = other.provider_;
    context_ = std::move(other.context_);
  }
  return *this;
}

void Span::SetAttributeValue(AttributeKey key, AttributeValue value) {
  if (data_ == nullptr) return;
  std::string_view name = key.view();
  for (Attribute& a : data_->attributes) {
    if (a.name() == name) {
      a.value = std::move(value);
      return;
    }
  }
  if (data_->attributes.size() >= data_->max_attributes) {
    ++data_->dropped_attributes;
    return;
  }
  data_->attributes.push_back({std::move(key), std::move(value)});
}

void Span::AddEvent(std::string name, Attributes attributes,
                    int64_t time_unix_nano) {
  if (data_ == nullptr) return;
  if (data_->events.size() >= data_->max_events) {
    ++data_->dropped_events;
    return;
  }
  if (time_unix_nano == 0) time_unix_nano = provider_->NowUnixNano();
  data_->events.push_back(
      {std::move(name), time_unix_nano, std::move(attributes)});
}

void Span::AddLink(const SpanContext& context, Attributes attributes) {
  if (data_ == nullptr || !context.IsValid()) return;
  if (data_->links.size() >= data_->max_links) {
    ++data_->dropped_links;
    return;
  }
  data_->links.push_back({context, std::move(attributes)});
}

void Span::SetStatus(StatusCode code, std::string_view description) {
  if (data_ == nullptr || code == StatusCode::kUnset) return;
  if (data_->status_code == StatusCode::kOk) return;  // Ok is final
  data_->status_code = code;
  data_->status_message =
      code == StatusCode::kError ? std::string(description) : std::string();
}

void Span::UpdateName(std::string name) {
  if (data_ != nullptr) data_->name = std::move(name);
}

void Span::RecordException(std::string_view type, std::string_view message) {
  if (data_ == nullptr) return;
  AddEvent("exception", {{semconv::kExceptionType, std::string(type)},
                         {semconv::kExceptionMessage, std::string(message)}});
}

void Span::End(int64_t end_time_unix_nano) {
  if (data_ == nullptr) return;
  data_->end_time_unix_nano =
      end_time_unix_nano != 0 ? end_time_unix_nano : provider_->NowUnixNano();
  provider_->OnEnd(std::move(data_));
}

// ---------------------------------------------------------------------------
// Tracer

Span Tracer::StartSpan(std::string_view name, StartSpanOptions options) const {
  const SpanContext* parent = nullptr;
  if (!options.root) {
    parent = options.parent != nullptr ? options.parent
                                       : internal::tls_active_span_context;
    if (parent != nullptr && !parent->IsValid()) parent = nullptr;
  }
  TraceId trace_id = parent != nullptr ? parent->trace_id : TraceId::Random();
  bool sampled =
      !provider_->shut_down_.load(std::memory_order_relaxed) &&
      provider_->sampler_->ShouldSample({parent, trace_id, name, options.kind});
  if (!sampled) {
    SpanContext ctx;
    ctx.trace_id = trace_id;
    ctx.span_id = SpanId::Random();
    ctx.trace_flags = 0;
    if (parent != nullptr) ctx.trace_state = parent->trace_state;
    return Span(std::move(ctx));
  }
  auto data = std::make_unique<SpanData>();
  data->context.trace_id = trace_id;
  data->context.span_id = SpanId::Random();
  data->context.trace_flags = kTraceFlagSampled;
  if (parent != nullptr) {
    data->context.trace_state = parent->trace_state;
    data->parent_span_id = parent->span_id;
    data->parent_is_remote = parent->is_remote;
  }
  data->name = std::string(name);
  data->kind = options.kind;
  data->start_time_unix_nano = options.start_time_unix_nano != 0
                                   ? options.start_time_unix_nano
                                   : provider_->NowUnixNano();
  const SpanLimits& limits = provider_->limits_;
  data->max_attributes = limits.max_attributes;
  data->max_events = limits.max_events;
  data->max_links = limits.max_links;
  data->resource = &provider_->resource_;
  data->scope = &scope_;
  data->attributes = std::move(options.attributes);
  if (data->attributes.capacity() < 8) data->attributes.reserve(8);
  if (data->attributes.size() > limits.max_attributes) {
    data->dropped_attributes = data->attributes.size() - limits.max_attributes;
    data->attributes.resize(limits.max_attributes);
  }
  data->links = std::move(options.links);
  if (data->links.size() > limits.max_links) {
    data->dropped_links = data->links.size() - limits.max_links;
    data->links.resize(limits.max_links);
  }
  return Span(std::move(data), provider_);
}

// ---------------------------------------------------------------------------
// TracerProvider

TracerProvider::TracerProvider(TracerProviderOptions options)
    : resource_(std::move(options.resource)),
      sampler_(options.sampler != nullptr
                   ? std::move(options.sampler)
                   : ParentBasedSampler(AlwaysOnSampler())),
      processors_(std::move(options.processors)),
      clock_(options.clock),
      limits_(options.limits) {}

TracerProvider::~TracerProvider() { Shutdown().IgnoreError(); }

Tracer& TracerProvider::GetTracer(std::string_view name,
                                  std::string_view version) {
  absl::MutexLock lock(&mu_);
  for (const auto& t : tracers_) {
    if (t->scope_.name == name && t->scope_.version == version) return *t;
  }
  tracers_.push_back(std::unique_ptr<Tracer>(new Tracer(
      this, InstrumentationScope{std::string(name), std::string(version)})));
  return *tracers_.back();
}

int64_t TracerProvider::NowUnixNano() const {
  if (clock_ != nullptr) return absl::ToUnixNanos(clock_->Now());
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void TracerProvider::OnEnd(std::unique_ptr<SpanData> span) const {
  if (processors_.empty() || shut_down_.load(std::memory_order_relaxed)) {
    return;
  }
  for (size_t i = 0; i + 1 < processors_.size(); ++i) {
    processors_[i]->OnEnd(std::make_unique<SpanData>(*span));
  }
  processors_.back()->OnEnd(std::move(span));
}

absl::Status TracerProvider::ForceFlush(absl::Duration timeout) {
  absl::Status result;
  for (const auto& p : processors_) result.Update(p->ForceFlush(timeout));
  return result;
}

absl::Status TracerProvider::Shutdown(absl::Duration timeout) {
  if (shut_down_.exchange(true)) return absl::OkStatus();
  absl::Status result;
  for (const auto& p : processors_) result.Update(p->Shutdown(timeout));
  return result;
}

namespace {

std::atomic<TracerProvider*> global_provider{nullptr};

TracerProvider* NoopProvider() {
  static TracerProvider* const noop = [] {
    TracerProviderOptions o;
    o.sampler = AlwaysOffSampler();
    return new TracerProvider(std::move(o));
  }();
  return noop;
}

}  // namespace

TracerProvider& GlobalTracerProvider() {
  TracerProvider* p = global_provider.load(std::memory_order_acquire);
  return p != nullptr ? *p : *NoopProvider();
}

void SetGlobalTracerProvider(std::shared_ptr<TracerProvider> provider) {
  // Leaked on purpose: tracers and spans hold raw pointers to it.
  auto* keep = new std::shared_ptr<TracerProvider>(std::move(provider));
  global_provider.store(keep->get(), std::memory_order_release);
}

}  // namespace pantau::sdk
