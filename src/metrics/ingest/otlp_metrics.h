// The OTLP metrics receiver's logic, apart from transport: the server's
// POST /v1/metrics handler calls HandleHttp with the raw body; its gRPC
// MetricsService/Export calls Export with the decoded request.
//
// Conversion, as Prometheus's OTLP receiver does:
//   - gauge -> gauge; cumulative sum -> counter (monotonic, "_total") or
//     gauge; cumulative histogram -> classic _bucket{le}/_sum/_count;
//     summary -> {quantile}/_sum/_count. Delta (and unspecified)
//     temporality and exponential histograms are rejected with a reason.
//   - names get unit and type suffixes (see otlp_names.h); attribute keys
//     become label names (colliding keys join their values with ";").
//   - resource service.namespace/service.name -> job ("ns/name"),
//     service.instance.id -> instance; the other resource attributes go
//     to a `target_info` gauge (value 1) with job and instance.
//   - a point flagged "no recorded value" is written as a staleness marker;
//     exemplars keep trace_id/span_id (hex) and their attributes.
// Points that cannot be stored (bad data, out of order, ...) are counted
// and reported through partial_success; the rest is committed.
//
// HTTP answers (OTLP/HTTP): 200 with an ExportMetricsServiceResponse in
// the request's encoding (protobuf or JSON), partial_success set when
// points were rejected; 400 for an undecodable body; 413 oversized; 415
// unknown Content-Type; 503 (retryable) when storage fails.
//
// Thread safety: safe for concurrent use.
#ifndef PANTAU_METRICS_INGEST_OTLP_METRICS_H_
#define PANTAU_METRICS_INGEST_OTLP_METRICS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "metrics/ingest/ingest_counters.h"
#include "metrics/storage/storage.h"

namespace opentelemetry::proto::collector::metrics::v1 {
class ExportMetricsServiceRequest;
class ExportMetricsServiceResponse;
}  // namespace opentelemetry::proto::collector::metrics::v1

namespace pantau::metrics::ingest {

class MetadataStore;

struct OtlpOptions {
  size_t max_body_bytes = 32 << 20;
  size_t max_decompressed_bytes = 128 << 20;
  // Where each metric's type, description and unit go; null ignores them.
  MetadataStore* metadata = nullptr;
};

struct OtlpHttpResult {
  int http_status = 200;
  std::string content_type;  // of `body`
  std::string body;          // the response (or error text for 4xx/5xx)
  int64_t rejected_points = 0;
  uint64_t samples_accepted = 0;
};

class OtlpMetricsReceiver {
 public:
  // `storage` and `counters` must outlive the receiver.
  OtlpMetricsReceiver(Appendable* storage, IngestCounters* counters,
                      OtlpOptions options = {});

  // `content_type`: application/x-protobuf or application/json;
  // `content_encoding`: "", "identity" or "gzip".
  OtlpHttpResult HandleHttp(std::string_view body,
                            std::string_view content_type,
                            std::string_view content_encoding);

  // For gRPC. UNAVAILABLE on storage failure (the client retries);
  // otherwise OK with `response->partial_success` filled in.
  absl::Status Export(const opentelemetry::proto::collector::metrics::v1::
                          ExportMetricsServiceRequest& request,
                      opentelemetry::proto::collector::metrics::v1::
                          ExportMetricsServiceResponse* response);

 private:
  absl::Status DoExport(const opentelemetry::proto::collector::metrics::v1::
                            ExportMetricsServiceRequest& request,
                        opentelemetry::proto::collector::metrics::v1::
                            ExportMetricsServiceResponse* response,
                        uint64_t* accepted);

  Appendable* storage_;
  IngestCounters* counters_;
  OtlpOptions options_;
};

}  // namespace pantau::metrics::ingest

#endif  // PANTAU_METRICS_INGEST_OTLP_METRICS_H_
