#include "pantau/sdk/trace.h"

#include <chrono>

#include "id_generator.h"
#include "pantau/sdk/semconv.h"
#include "sampler_internal.h"
#include "span_pool.h"

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
  if (AttributeValue* existing = FindAttributeValue(key.view())) {
    *existing = std::move(value);
  } else if (HasRoomForAttribute()) {
    data_->attributes.push_back({std::move(key), std::move(value)});
  }
}

AttributeValue* Span::FindAttributeValue(std::string_view name) {
  for (Attribute& a : data_->attributes) {
    if (a.name() == name) return &a.value;
  }
  return nullptr;
}

bool Span::HasRoomForAttribute() {
  if (data_->attributes.size() < data_->max_attributes) return true;
  ++data_->dropped_attributes;
  return false;
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

void Span::EndRecording(int64_t end_time_unix_nano) {
  data_->end_time_unix_nano =
      end_time_unix_nano != 0 ? end_time_unix_nano : provider_->NowUnixNano();
  provider_->OnEnd(std::move(data_));
}

Span::Span(const TraceId& trace_id, const SpanId& span_id,
           const SpanContext* parent) {
  context_.trace_id = trace_id;
  context_.span_id = span_id;
  if (parent != nullptr && !parent->trace_state.empty()) {
    context_.trace_state = parent->trace_state;
  }
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
  TraceId trace_id =
      parent != nullptr ? parent->trace_id : internal::NewTraceId();
  bool sampled;
  switch (
      static_cast<internal::SamplerShortcut>(provider_->sampler_shortcut_)) {
    case internal::SamplerShortcut::kAlwaysOn:
      sampled = true;
      break;
    case internal::SamplerShortcut::kAlwaysOff:
      sampled = false;
      break;
    case internal::SamplerShortcut::kParentOrOn:
      sampled = parent == nullptr || parent->IsSampled();
      break;
    case internal::SamplerShortcut::kParentOrOff:
      sampled = parent != nullptr && parent->IsSampled();
      break;
    default:
      sampled = provider_->sampler_->ShouldSample(
          {parent, trace_id, name, options.kind});
  }
  if (sampled && !provider_->shut_down_.load(std::memory_order_relaxed)) {
    return StartRecordingSpan(name, options, parent, trace_id);
  }
  // Non-recording: only the context, built in the returned handle.
  return Span(trace_id, internal::NewSpanId(), parent);
}

__attribute__((noinline)) Span Tracer::StartRecordingSpan(
    std::string_view name, StartSpanOptions& options, const SpanContext* parent,
    const TraceId& trace_id) const {
  // Recycled: its name and attribute storage are usually big enough
  // already, so the span allocates nothing.
  std::unique_ptr<SpanData> data = internal::NewSpanData();
  data->context.trace_id = trace_id;
  data->context.span_id = internal::NewSpanId();
  data->context.trace_flags = kTraceFlagSampled;
  if (parent != nullptr) {
    data->context.trace_state = parent->trace_state;
    data->parent_span_id = parent->span_id;
    data->parent_is_remote = parent->is_remote;
  }
  data->name.assign(name.data(), name.size());
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
  // Element-wise moves keep the recycled vectors' capacity.
  Attributes& attrs = options.attributes;
  if (attrs.size() > limits.max_attributes) {
    data->dropped_attributes = attrs.size() - limits.max_attributes;
    attrs.resize(limits.max_attributes);
  }
  if (data->attributes.capacity() < 8) data->attributes.reserve(8);
  data->attributes.assign(std::make_move_iterator(attrs.begin()),
                          std::make_move_iterator(attrs.end()));
  std::vector<SpanLink>& links = options.links;
  if (!links.empty()) {
    if (links.size() > limits.max_links) {
      data->dropped_links = links.size() - limits.max_links;
      links.resize(limits.max_links);
    }
    data->links.assign(std::make_move_iterator(links.begin()),
                       std::make_move_iterator(links.end()));
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
      sampler_shortcut_(static_cast<uint8_t>(internal::ShortcutOf(*sampler_))),
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
    internal::RecycleSpanData(std::move(span));
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
