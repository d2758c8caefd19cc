// OTLP exporters for spans, log records and metrics, and the periodic
// reader that pushes a Registry's metrics. They encode protobuf export
// requests and hand them to an OtlpTransport (HTTP or gRPC), retrying as
// the transport's classification and RetryOptions say.
//
//   auto transport = sdk::MakeOtlpHttpTransport({.endpoint =
//                                               "http://collector:4318"});
//   auto exporter = std::make_shared<sdk::OtlpSpanExporter>(
//       sdk::OtlpExporterOptions{.transport = transport});
//   options.processors.push_back(
//       std::make_shared<sdk::BatchSpanProcessor>(exporter));
//
// Thread safety: exporters are called by one processor thread at a time
// but are safe to share; PeriodicMetricReader is safe to use from any
// thread.
#ifndef PANTAU_SDK_OTLP_EXPORTER_H_
#define PANTAU_SDK_OTLP_EXPORTER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "pantau/sdk/logs.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/otlp_transport.h"
#include "pantau/sdk/resource.h"
#include "pantau/sdk/span_data.h"

namespace pantau::sdk {

struct OtlpExporterOptions {
  // Required. Shared by exporters that talk to the same endpoint.
  std::shared_ptr<OtlpTransport> transport;
  // Deadline of each attempt. Default 10 s.
  absl::Duration timeout = absl::Seconds(10);
  RetryOptions retry;
};

// Counts and shutdown shared by the three exporters.
class OtlpExporterStats {
 public:
  // Ends any wait between retries; later exports fail with CANCELLED.
  void Cancel() {
    if (!cancelled_.exchange(true)) cancel_.Notify();
  }
  // Items the server reported as rejected in a partial success.
  uint64_t rejected() const { return rejected_.load(); }
  // Export calls that failed after retries.
  uint64_t failed_requests() const { return failed_.load(); }

 protected:
  std::atomic<uint64_t> rejected_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<bool> cancelled_{false};
  absl::Notification cancel_;
  // One export at a time per exporter: they share `scratch_`, the first
  // block of each export's protobuf arena (1 MiB, made on first use), so
  // encoding a batch does not map fresh pages every time.
  absl::Mutex export_mu_;
  std::unique_ptr<char[]> scratch_ ABSL_GUARDED_BY(export_mu_);
};

class OtlpSpanExporter : public SpanExporter, public OtlpExporterStats {
 public:
  explicit OtlpSpanExporter(OtlpExporterOptions options);
  absl::Status Export(
      const std::vector<std::unique_ptr<SpanData>>& batch) override;
  absl::Status Shutdown() override {
    Cancel();
    return absl::OkStatus();
  }

 private:
  OtlpExporterOptions options_;
};

class OtlpLogRecordExporter : public LogRecordExporter,
                              public OtlpExporterStats {
 public:
  explicit OtlpLogRecordExporter(OtlpExporterOptions options);
  absl::Status Export(
      const std::vector<std::unique_ptr<LogRecord>>& batch) override;
  absl::Status Shutdown() override {
    Cancel();
    return absl::OkStatus();
  }

 private:
  OtlpExporterOptions options_;
};

class OtlpMetricExporter : public OtlpExporterStats {
 public:
  explicit OtlpMetricExporter(OtlpExporterOptions options);
  // Sends cumulative points stamped `time_unix_nano` (0: now).
  absl::Status Export(const std::vector<FamilySnapshot>& families,
                      const Resource& resource, int64_t time_unix_nano = 0);

 private:
  OtlpExporterOptions options_;
};

// Collects `registry` every `interval` on a background thread and exports
// it. Shutdown (or destruction) exports one last collection.
class PeriodicMetricReader {
 public:
  // `registry` must outlive the reader. Default interval 60 s (the
  // OpenTelemetry default).
  PeriodicMetricReader(const Registry& registry,
                       std::shared_ptr<OtlpMetricExporter> exporter,
                       Resource resource = Resource::Create(),
                       absl::Duration interval = absl::Seconds(60));
  ~PeriodicMetricReader();
  PeriodicMetricReader(const PeriodicMetricReader&) = delete;
  PeriodicMetricReader& operator=(const PeriodicMetricReader&) = delete;

  // Collects and exports now, on the calling thread.
  absl::Status ForceFlush();
  absl::Status Shutdown();

 private:
  void Run();

  const Registry& registry_;
  std::shared_ptr<OtlpMetricExporter> exporter_;
  Resource resource_;
  absl::Duration interval_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex export_mu_;  // one export at a time
  std::thread worker_;
};

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_OTLP_EXPORTER_H_
