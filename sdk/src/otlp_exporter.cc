#include "pantau/sdk/otlp_exporter.h"

#include <chrono>

#include "google/protobuf/arena.h"
#include "otlp_convert.h"

namespace pantau::sdk {
namespace {

int64_t NowUnixNano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Sends one encoded request and reads a partial success, if any.
template <typename Response>
absl::Status Send(const OtlpExporterOptions& options, OtlpSignal signal,
                  std::string body, std::atomic<uint64_t>* rejected,
                  std::atomic<uint64_t>* failed,
                  const absl::Notification* cancel,
                  int64_t (*rejected_count)(const Response&)) {
  if (options.transport == nullptr) {
    return absl::FailedPreconditionError("OTLP exporter has no transport");
  }
  OtlpRequest req{signal, std::move(body), options.timeout};
  absl::StatusOr<OtlpResponse> resp =
      SendWithRetry(*options.transport, req, options.retry, cancel);
  if (!resp.ok()) {
    failed->fetch_add(1);
    return resp.status();
  }
  Response parsed;
  if (!resp->body.empty() && parsed.ParseFromString(resp->body)) {
    int64_t n = rejected_count(parsed);
    if (n > 0) rejected->fetch_add(static_cast<uint64_t>(n));
  }
  return absl::OkStatus();
}

constexpr size_t kScratchBytes = 1 << 20;

google::protobuf::ArenaOptions ScratchArena(std::unique_ptr<char[]>* scratch) {
  if (*scratch == nullptr) scratch->reset(new char[kScratchBytes]);
  google::protobuf::ArenaOptions o;
  o.initial_block = scratch->get();
  o.initial_block_size = kScratchBytes;
  return o;
}

}  // namespace

OtlpSpanExporter::OtlpSpanExporter(OtlpExporterOptions options)
    : options_(std::move(options)) {}

absl::Status OtlpSpanExporter::Export(
    const std::vector<std::unique_ptr<SpanData>>& batch) {
  if (batch.empty()) return absl::OkStatus();
  using Resp =
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceResponse;
  absl::MutexLock lock(&export_mu_);
  google::protobuf::Arena arena(ScratchArena(&scratch_));
  auto* req = google::protobuf::Arena::CreateMessage<
      opentelemetry::proto::collector::trace::v1::ExportTraceServiceRequest>(
      &arena);
  internal::ToTraceRequest(batch, req);
  return Send<Resp>(
      options_, OtlpSignal::kTraces, req->SerializeAsString(), &rejected_,
      &failed_, &cancel_, +[](const Resp& r) -> int64_t {
        return r.partial_success().rejected_spans();
      });
}

OtlpLogRecordExporter::OtlpLogRecordExporter(OtlpExporterOptions options)
    : options_(std::move(options)) {}

absl::Status OtlpLogRecordExporter::Export(
    const std::vector<std::unique_ptr<LogRecord>>& batch) {
  if (batch.empty()) return absl::OkStatus();
  using Resp =
      opentelemetry::proto::collector::logs::v1::ExportLogsServiceResponse;
  absl::MutexLock lock(&export_mu_);
  google::protobuf::Arena arena(ScratchArena(&scratch_));
  auto* req = google::protobuf::Arena::CreateMessage<
      opentelemetry::proto::collector::logs::v1::ExportLogsServiceRequest>(
      &arena);
  internal::ToLogsRequest(batch, req);
  return Send<Resp>(
      options_, OtlpSignal::kLogs, req->SerializeAsString(), &rejected_,
      &failed_, &cancel_, +[](const Resp& r) -> int64_t {
        return r.partial_success().rejected_log_records();
      });
}

OtlpMetricExporter::OtlpMetricExporter(OtlpExporterOptions options)
    : options_(std::move(options)) {}

absl::Status OtlpMetricExporter::Export(
    const std::vector<FamilySnapshot>& families, const Resource& resource,
    int64_t time_unix_nano) {
  if (families.empty()) return absl::OkStatus();
  if (time_unix_nano == 0) time_unix_nano = NowUnixNano();
  using Resp = opentelemetry::proto::collector::metrics::v1::
      ExportMetricsServiceResponse;
  absl::MutexLock lock(&export_mu_);
  google::protobuf::Arena arena(ScratchArena(&scratch_));
  auto* req = google::protobuf::Arena::CreateMessage<
      opentelemetry::proto::collector::metrics::v1::
          ExportMetricsServiceRequest>(&arena);
  internal::ToMetricsRequest(families, resource, time_unix_nano, req);
  return Send<Resp>(
      options_, OtlpSignal::kMetrics, req->SerializeAsString(), &rejected_,
      &failed_, &cancel_, +[](const Resp& r) -> int64_t {
        return r.partial_success().rejected_data_points();
      });
}

PeriodicMetricReader::PeriodicMetricReader(
    const Registry& registry, std::shared_ptr<OtlpMetricExporter> exporter,
    Resource resource, absl::Duration interval)
    : registry_(registry),
      exporter_(std::move(exporter)),
      resource_(std::move(resource)),
      interval_(interval) {
  worker_ = std::thread([this] { Run(); });
}

PeriodicMetricReader::~PeriodicMetricReader() { Shutdown().IgnoreError(); }

absl::Status PeriodicMetricReader::ForceFlush() {
  absl::MutexLock lock(&export_mu_);
  return exporter_->Export(registry_.Collect(), resource_);
}

absl::Status PeriodicMetricReader::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::OkStatus();
    stopping_ = true;
  }
  if (worker_.joinable()) worker_.join();
  return ForceFlush();
}

void PeriodicMetricReader::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval_);
      if (stopping_) return;
    }
    ForceFlush().IgnoreError();
  }
}

}  // namespace pantau::sdk
