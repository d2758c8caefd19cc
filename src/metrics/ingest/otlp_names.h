// OTLP metric and attribute names to Prometheus names, as Prometheus's
// OTLP receiver does with suffixes enabled (the OpenTelemetry/Prometheus
// compatibility spec): the name is split into alphanumeric tokens, the
// unit is appended in Prometheus words ("s" -> "seconds", "By" -> "bytes",
// "m/s" -> "meters_per_second"; units in braces are dropped), monotonic
// sums end in "_total", gauges with unit "1" in "_ratio".
//
//   http.server.request.duration, unit "s", histogram
//     -> http_server_request_duration_seconds
//
// Thread safety: pure functions.
#ifndef PANTAU_METRICS_INGEST_OTLP_NAMES_H_
#define PANTAU_METRICS_INGEST_OTLP_NAMES_H_

#include <string>
#include <string_view>

namespace pantau::metrics::ingest {

enum class OtlpKind {
  kGauge,
  kMonotonicSum,
  kNonMonotonicSum,
  kHistogram,
  kSummary
};

std::string OtlpMetricName(std::string_view name, std::string_view unit,
                           OtlpKind kind);

// An attribute key as a label name: invalid characters become "_", a
// leading digit gets "key_", a single leading "_" gets "key".
std::string OtlpLabelName(std::string_view key);

}  // namespace pantau::metrics::ingest

#endif  // PANTAU_METRICS_INGEST_OTLP_NAMES_H_
