// Span processors: BatchSpanProcessor (the one to use in production: a
// bounded queue that drops the oldest span when full, exported in batches
// by a background thread), SimpleSpanProcessor (exports each span on the
// ending thread; for tests and debugging) and InMemorySpanExporter (keeps
// what it is given; for tests).
//
// Thread safety: all classes are safe to use from any thread.
#ifndef PANTAU_SDK_SPAN_PROCESSOR_H_
#define PANTAU_SDK_SPAN_PROCESSOR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "pantau/sdk/batch_options.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/span_data.h"

namespace pantau::sdk {

class BatchSpanProcessor : public SpanProcessor {
 public:
  BatchSpanProcessor(std::shared_ptr<SpanExporter> exporter,
                     BatchOptions options = {});
  ~BatchSpanProcessor() override;

  void OnEnd(std::unique_ptr<SpanData> span) override;
  absl::Status ForceFlush(absl::Duration timeout) override;
  // Flushes, stops the worker, then shuts the exporter down.
  absl::Status Shutdown(absl::Duration timeout) override;

  // Spans dropped because the queue was full (or after shutdown).
  uint64_t dropped() const;
  uint64_t exported() const;
  // Spans in batches the exporter failed to deliver.
  uint64_t failed() const;

  // Adds callback counters pantau_sdk_spans_{dropped,exported,failed}_total
  // to `registry`. The processor must outlive the registry's collections.
  void RegisterMetrics(Registry& registry);

 private:
  struct Impl;
  std::shared_ptr<SpanExporter> exporter_;
  std::unique_ptr<Impl> impl_;
  absl::Mutex shutdown_mu_;
  bool exporter_shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

class SimpleSpanProcessor : public SpanProcessor {
 public:
  explicit SimpleSpanProcessor(std::shared_ptr<SpanExporter> exporter)
      : exporter_(std::move(exporter)) {}
  void OnEnd(std::unique_ptr<SpanData> span) override;
  absl::Status ForceFlush(absl::Duration) override { return absl::OkStatus(); }
  absl::Status Shutdown(absl::Duration) override;

 private:
  absl::Mutex mu_;
  std::shared_ptr<SpanExporter> exporter_;
};

class InMemorySpanExporter : public SpanExporter {
 public:
  absl::Status Export(
      const std::vector<std::unique_ptr<SpanData>>& batch) override;
  // Copies of everything exported so far.
  std::vector<SpanData> spans() const;
  void Clear();

 private:
  mutable absl::Mutex mu_;
  std::vector<SpanData> spans_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_SPAN_PROCESSOR_H_
