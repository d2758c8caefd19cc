#include "pantau/sdk/span_processor.h"

#include "batcher.h"
#include "span_pool.h"

namespace pantau::sdk {

struct BatchSpanProcessor::Impl {
  Impl(BatchOptions options,
       internal::Batcher<std::unique_ptr<SpanData>>::ExportFn fn)
      : batcher(options, std::move(fn),
                [](std::vector<std::unique_ptr<SpanData>>& batch) {
                  // Exported spans go back to Tracer::StartSpan.
                  internal::RecycleSpanData(batch);
                }) {}
  internal::Batcher<std::unique_ptr<SpanData>> batcher;
};

BatchSpanProcessor::BatchSpanProcessor(std::shared_ptr<SpanExporter> exporter,
                                       BatchOptions options)
    : exporter_(std::move(exporter)) {
  SpanExporter* e = exporter_.get();
  impl_ = std::make_unique<Impl>(
      options, [e](std::vector<std::unique_ptr<SpanData>>& batch) {
        return e->Export(batch);
      });
}

BatchSpanProcessor::~BatchSpanProcessor() {
  Shutdown(absl::Seconds(10)).IgnoreError();
}

void BatchSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) {
  // A span dropped from a full queue is reused, not freed: overload is
  // when allocation would hurt most.
  std::unique_ptr<SpanData> dropped = impl_->batcher.Push(std::move(span));
  if (dropped != nullptr) internal::RecycleSpanData(std::move(dropped));
}

absl::Status BatchSpanProcessor::ForceFlush(absl::Duration timeout) {
  return impl_->batcher.ForceFlush(timeout);
}

absl::Status BatchSpanProcessor::Shutdown(absl::Duration timeout) {
  absl::MutexLock lock(&shutdown_mu_);
  if (exporter_shut_down_) return absl::OkStatus();
  exporter_shut_down_ = true;
  // Deliver what is queued within `timeout`; then shut the exporter down
  // (ending its retry waits) before joining the worker, so an unreachable
  // endpoint cannot hold shutdown past the timeout.
  absl::Status status = impl_->batcher.ForceFlush(timeout);
  status.Update(exporter_->Shutdown());
  impl_->batcher.Shutdown(absl::ZeroDuration()).IgnoreError();
  return status;
}

uint64_t BatchSpanProcessor::dropped() const {
  return impl_->batcher.dropped();
}
uint64_t BatchSpanProcessor::exported() const {
  return impl_->batcher.exported();
}
uint64_t BatchSpanProcessor::failed() const { return impl_->batcher.failed(); }

void BatchSpanProcessor::RegisterMetrics(Registry& registry) {
  registry.AddCallbackCounter(
      "pantau_sdk_spans_dropped_total",
      "Spans dropped because the export queue was full.",
      [this] { return static_cast<double>(dropped()); });
  registry.AddCallbackCounter(
      "pantau_sdk_spans_exported_total",
      "Spans delivered to the exporter's endpoint.",
      [this] { return static_cast<double>(exported()); });
  registry.AddCallbackCounter("pantau_sdk_spans_failed_total",
                              "Spans in batches that could not be exported.",
                              [this] { return static_cast<double>(failed()); });
}

void SimpleSpanProcessor::OnEnd(std::unique_ptr<SpanData> span) {
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::move(span));
  absl::MutexLock lock(&mu_);
  exporter_->Export(batch).IgnoreError();
}

absl::Status SimpleSpanProcessor::Shutdown(absl::Duration) {
  absl::MutexLock lock(&mu_);
  return exporter_->Shutdown();
}

absl::Status InMemorySpanExporter::Export(
    const std::vector<std::unique_ptr<SpanData>>& batch) {
  absl::MutexLock lock(&mu_);
  for (const auto& s : batch) spans_.push_back(*s);
  return absl::OkStatus();
}

std::vector<SpanData> InMemorySpanExporter::spans() const {
  absl::MutexLock lock(&mu_);
  return spans_;
}

void InMemorySpanExporter::Clear() {
  absl::MutexLock lock(&mu_);
  spans_.clear();
}

}  // namespace pantau::sdk
