// OTLP metrics -> samples (see otlp_metrics.h); the HTTP decoding is in
// otlp_http.cc.
#include "metrics/ingest/otlp_metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "metrics/ingest/metadata_store.h"
#include "metrics/ingest/otlp_names.h"
#include "metrics/scrape/exposition_parser.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace pantau::metrics::ingest {
namespace {

namespace otlp = opentelemetry::proto;
using otlp::collector::metrics::v1::ExportMetricsServiceRequest;
using otlp::collector::metrics::v1::ExportMetricsServiceResponse;

// Go's strconv.FormatFloat(v, 'f', -1, 64), as Prometheus writes le and
// quantile values; infinities as "+Inf"/"-Inf".
std::string FormatFloat(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[400];
  auto [end, ec] =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (ec != std::errc()) return absl::StrCat(v);
  return std::string(buf, end);
}

std::string Hex(const std::string& bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

void AppendAnyValue(const otlp::common::v1::AnyValue& v, std::string* out,
                    int depth);

std::string AnyValueString(const otlp::common::v1::AnyValue& v) {
  std::string out;
  AppendAnyValue(v, &out, 0);
  return out;
}

// Scalars as text; arrays and maps as JSON, as Prometheus renders them.
void AppendAnyValue(const otlp::common::v1::AnyValue& v, std::string* out,
                    int depth) {
  using AV = otlp::common::v1::AnyValue;
  if (depth > 16) return;
  switch (v.value_case()) {
    case AV::kStringValue:
      *out += v.string_value();
      break;
    case AV::kBoolValue:
      *out += v.bool_value() ? "true" : "false";
      break;
    case AV::kIntValue:
      absl::StrAppend(out, v.int_value());
      break;
    case AV::kDoubleValue:
      *out += FormatFloat(v.double_value());
      break;
    case AV::kBytesValue:
      *out += Hex(v.bytes_value());
      break;
    case AV::kArrayValue: {
      out->push_back('[');
      for (int i = 0; i < v.array_value().values_size(); ++i) {
        if (i > 0) out->push_back(',');
        const AV& e = v.array_value().values(i);
        bool quote = e.value_case() == AV::kStringValue;
        if (quote) out->push_back('"');
        AppendAnyValue(e, out, depth + 1);
        if (quote) out->push_back('"');
      }
      out->push_back(']');
      break;
    }
    case AV::kKvlistValue: {
      out->push_back('{');
      for (int i = 0; i < v.kvlist_value().values_size(); ++i) {
        if (i > 0) out->push_back(',');
        const auto& kv = v.kvlist_value().values(i);
        absl::StrAppend(out, "\"", kv.key(), "\":");
        bool quote = kv.value().value_case() == AV::kStringValue;
        if (quote) out->push_back('"');
        AppendAnyValue(kv.value(), out, depth + 1);
        if (quote) out->push_back('"');
      }
      out->push_back('}');
      break;
    }
    default:
      break;
  }
}

int64_t PointCount(const otlp::metrics::v1::Metric& m) {
  if (m.has_gauge()) return m.gauge().data_points_size();
  if (m.has_sum()) return m.sum().data_points_size();
  if (m.has_histogram()) return m.histogram().data_points_size();
  if (m.has_summary()) return m.summary().data_points_size();
  if (m.has_exponential_histogram()) {
    return m.exponential_histogram().data_points_size();
  }
  return 0;
}

using Attrs = google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>;

// Attribute keys to label names; keys that map to the same name join
// their values with ";" in key order.
void AddAttributes(const Attrs& attrs, base::LabelsBuilder* b) {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>>
      by_name;
  for (const auto& kv : attrs) {
    std::string name = OtlpLabelName(kv.key());
    if (name.empty()) continue;
    by_name[name].emplace_back(kv.key(), AnyValueString(kv.value()));
  }
  for (auto& [name, values] : by_name) {
    std::sort(values.begin(), values.end());
    std::string joined;
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) joined.push_back(';');
      joined += values[i].second;
    }
    b->Set(name, joined);
  }
}

class Converter {
 public:
  Converter(Appender* app, IngestCounters* counters, MetadataStore* metadata)
      : app_(app), counters_(counters), metadata_(metadata) {}

  // False on a storage failure (the request must be retried).
  bool Run(const ExportMetricsServiceRequest& req);

  int64_t rejected() const { return rejected_; }
  uint64_t accepted() const { return accepted_; }
  const std::string& first_error() const { return first_error_; }
  const absl::Status& storage_error() const { return storage_error_; }

 private:
  void Reject(RejectReason r, int64_t points, std::string_view msg) {
    counters_->Reject(r, points);
    rejected_ += points;
    if (first_error_.empty()) first_error_ = std::string(msg);
  }
  // Appends one sample. On refusal records the reason in *failed (first
  // one wins) and returns false; storage failures also set storage_error_.
  bool Emit(const base::Labels& labels, int64_t t, double v, SeriesRef* ref,
            std::optional<RejectReason>* failed);
  // Counts a point as rejected if any of its samples was.
  void Settle(const std::optional<RejectReason>& failed) {
    if (failed && *failed != RejectReason::kStorage) {
      counters_->Reject(*failed);
      ++rejected_;
    }
  }
  base::Labels PointLabels(const Attrs& attrs, std::string_view name,
                           std::string_view extra_name = {},
                           std::string_view extra_value = {});
  void ConvertMetric(const otlp::metrics::v1::Metric& m);
  void AddExemplar(const otlp::metrics::v1::Exemplar& e, SeriesRef ref,
                   const base::Labels& labels);

  // Records the metric's metadata under its Prometheus family name.
  void Describe(const std::string& family, std::string_view type,
                const otlp::metrics::v1::Metric& m) {
    if (metadata_ == nullptr || family.empty() ||
        !scrape::IsValidUtf8(m.description()) ||
        !scrape::IsValidUtf8(m.unit())) {
      return;
    }
    metadata_->Set(
        family, PushedMetadata{std::string(type), m.description(), m.unit()});
  }

  Appender* app_;
  IngestCounters* counters_;
  MetadataStore* metadata_;
  base::Labels resource_labels_;  // job, instance
  int64_t max_ts_ = 0;
  int64_t rejected_ = 0;
  uint64_t accepted_ = 0;
  std::string first_error_;
  absl::Status storage_error_;
};

bool Converter::Emit(const base::Labels& labels, int64_t t, double v,
                     SeriesRef* ref, std::optional<RejectReason>* failed) {
  if (!storage_error_.ok()) return false;
  absl::StatusOr<SeriesRef> r = app_->Append(0, labels, t, v);
  if (r.ok()) {
    if (ref != nullptr) *ref = *r;
    ++accepted_;
    max_ts_ = std::max(max_ts_, t);
    return true;
  }
  RejectReason reason = ClassifyAppendError(r.status());
  if (!IsClientError(reason)) {
    storage_error_ = r.status();
  } else if (first_error_.empty()) {
    first_error_ =
        absl::StrCat(r.status().message(), " (series ", labels.ToString(), ")");
  }
  if (!*failed) *failed = reason;
  return false;
}

base::Labels Converter::PointLabels(const Attrs& attrs, std::string_view name,
                                    std::string_view extra_name,
                                    std::string_view extra_value) {
  base::LabelsBuilder b;
  AddAttributes(attrs, &b);
  // Resource-derived job/instance win over point attributes.
  for (const base::LabelView& l : resource_labels_) b.Set(l.name, l.value);
  if (!extra_name.empty()) b.Set(extra_name, extra_value);
  b.Set(base::kMetricName, name);
  return b.Build();
}

void Converter::AddExemplar(const otlp::metrics::v1::Exemplar& e, SeriesRef ref,
                            const base::Labels& labels) {
  base::LabelsBuilder b;
  AddAttributes(e.filtered_attributes(), &b);
  if (!e.trace_id().empty()) b.Set("trace_id", Hex(e.trace_id()));
  if (!e.span_id().empty()) b.Set("span_id", Hex(e.span_id()));
  Exemplar ex;
  ex.labels = b.Build();
  ex.value = e.value_case() == otlp::metrics::v1::Exemplar::kAsInt
                 ? static_cast<double>(e.as_int())
                 : e.as_double();
  ex.t = static_cast<int64_t>(e.time_unix_nano() / 1000000);
  ex.has_timestamp = e.time_unix_nano() != 0;
  if (app_->AppendExemplar(ref, labels, ex).ok()) {
    counters_->exemplars_accepted.fetch_add(1, std::memory_order_relaxed);
  } else {
    counters_->exemplars_rejected.fetch_add(1, std::memory_order_relaxed);
  }
}

void Converter::ConvertMetric(const otlp::metrics::v1::Metric& m) {
  using otlp::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE;
  using otlp::metrics::v1::Metric;
  constexpr uint32_t kNoRecordedValue = 1;
  auto point_ts = [](uint64_t nanos) {
    return static_cast<int64_t>(nanos / 1000000);
  };
  auto number = [](const otlp::metrics::v1::NumberDataPoint& p) {
    if (p.flags() & kNoRecordedValue) return StaleNaN();
    return p.value_case() == otlp::metrics::v1::NumberDataPoint::kAsInt
               ? static_cast<double>(p.as_int())
               : p.as_double();
  };
  switch (m.data_case()) {
    case Metric::kGauge:
    case Metric::kSum: {
      OtlpKind kind = OtlpKind::kGauge;
      const auto& points = m.data_case() == Metric::kGauge
                               ? m.gauge().data_points()
                               : m.sum().data_points();
      if (m.data_case() == Metric::kSum) {
        if (m.sum().aggregation_temporality() !=
            AGGREGATION_TEMPORALITY_CUMULATIVE) {
          Reject(RejectReason::kUnsupported, points.size(),
                 absl::StrCat("metric \"", m.name(),
                              "\": only cumulative sums are supported "
                              "(delta temporality is rejected)"));
          return;
        }
        kind = m.sum().is_monotonic() ? OtlpKind::kMonotonicSum
                                      : OtlpKind::kNonMonotonicSum;
      }
      const std::string name = OtlpMetricName(m.name(), m.unit(), kind);
      Describe(name, kind == OtlpKind::kMonotonicSum ? "counter" : "gauge", m);
      for (const auto& p : points) {
        std::optional<RejectReason> failed;
        base::Labels l = PointLabels(p.attributes(), name);
        SeriesRef ref = 0;
        if (Emit(l, point_ts(p.time_unix_nano()), number(p), &ref, &failed)) {
          for (const auto& e : p.exemplars()) AddExemplar(e, ref, l);
        }
        Settle(failed);
      }
      return;
    }
    case Metric::kHistogram: {
      const auto& h = m.histogram();
      if (h.aggregation_temporality() != AGGREGATION_TEMPORALITY_CUMULATIVE) {
        Reject(RejectReason::kUnsupported, h.data_points_size(),
               absl::StrCat("metric \"", m.name(),
                            "\": only cumulative histograms are supported "
                            "(delta temporality is rejected)"));
        return;
      }
      const std::string base =
          OtlpMetricName(m.name(), m.unit(), OtlpKind::kHistogram);
      Describe(base, "histogram", m);
      const std::string bucket = base + "_bucket";
      for (const auto& p : h.data_points()) {
        std::optional<RejectReason> failed;
        const int64_t t = point_ts(p.time_unix_nano());
        const bool stale = p.flags() & kNoRecordedValue;
        if (p.bucket_counts_size() > 0 &&
            p.bucket_counts_size() != p.explicit_bounds_size() + 1) {
          Reject(RejectReason::kInvalidLabels, 1,
                 absl::StrCat("metric \"", m.name(),
                              "\": bucket_counts must have one more entry "
                              "than explicit_bounds"));
          continue;
        }
        uint64_t cumulative = 0;
        std::vector<std::pair<double, std::pair<SeriesRef, base::Labels>>>
            buckets;
        for (int i = 0; i < p.explicit_bounds_size(); ++i) {
          cumulative += p.bucket_counts_size() > i ? p.bucket_counts(i) : 0;
          base::Labels l = PointLabels(p.attributes(), bucket, "le",
                                       FormatFloat(p.explicit_bounds(i)));
          SeriesRef ref = 0;
          Emit(l, t, stale ? StaleNaN() : static_cast<double>(cumulative), &ref,
               &failed);
          buckets.push_back({p.explicit_bounds(i), {ref, std::move(l)}});
        }
        base::Labels inf = PointLabels(p.attributes(), bucket, "le", "+Inf");
        SeriesRef inf_ref = 0;
        Emit(inf, t, stale ? StaleNaN() : static_cast<double>(p.count()),
             &inf_ref, &failed);
        if (p.has_sum()) {
          Emit(PointLabels(p.attributes(), base + "_sum"), t,
               stale ? StaleNaN() : p.sum(), nullptr, &failed);
        }
        Emit(PointLabels(p.attributes(), base + "_count"), t,
             stale ? StaleNaN() : static_cast<double>(p.count()), nullptr,
             &failed);
        // An exemplar belongs to the first bucket whose bound holds it.
        for (const auto& e : p.exemplars()) {
          double v = e.value_case() == otlp::metrics::v1::Exemplar::kAsInt
                         ? static_cast<double>(e.as_int())
                         : e.as_double();
          const std::pair<SeriesRef, base::Labels>* target = nullptr;
          for (const auto& b : buckets) {
            if (v <= b.first) {
              target = &b.second;
              break;
            }
          }
          if (target != nullptr) {
            AddExemplar(e, target->first, target->second);
          } else {
            AddExemplar(e, inf_ref, inf);
          }
        }
        Settle(failed);
      }
      return;
    }
    case Metric::kSummary: {
      const std::string base =
          OtlpMetricName(m.name(), m.unit(), OtlpKind::kSummary);
      Describe(base, "summary", m);
      for (const auto& p : m.summary().data_points()) {
        std::optional<RejectReason> failed;
        const int64_t t = point_ts(p.time_unix_nano());
        const bool stale = p.flags() & kNoRecordedValue;
        for (const auto& q : p.quantile_values()) {
          Emit(PointLabels(p.attributes(), base, "quantile",
                           FormatFloat(q.quantile())),
               t, stale ? StaleNaN() : q.value(), nullptr, &failed);
        }
        Emit(PointLabels(p.attributes(), base + "_sum"), t,
             stale ? StaleNaN() : p.sum(), nullptr, &failed);
        Emit(PointLabels(p.attributes(), base + "_count"), t,
             stale ? StaleNaN() : static_cast<double>(p.count()), nullptr,
             &failed);
        Settle(failed);
      }
      return;
    }
    case Metric::kExponentialHistogram:
      Reject(RejectReason::kUnsupported,
             m.exponential_histogram().data_points_size(),
             absl::StrCat("metric \"", m.name(),
                          "\": exponential histograms are not supported"));
      return;
    default:
      return;  // no data
  }
}

bool Converter::Run(const ExportMetricsServiceRequest& req) {
  for (const auto& rm : req.resource_metrics()) {
    std::string service_name, service_namespace, instance;
    for (const auto& kv : rm.resource().attributes()) {
      if (kv.key() == "service.name") {
        service_name = AnyValueString(kv.value());
      } else if (kv.key() == "service.namespace") {
        service_namespace = AnyValueString(kv.value());
      } else if (kv.key() == "service.instance.id") {
        instance = AnyValueString(kv.value());
      }
    }
    base::LabelsBuilder rb;
    rb.Set("job", service_namespace.empty()
                      ? service_name
                      : absl::StrCat(service_namespace, "/", service_name));
    rb.Set("instance", instance);
    resource_labels_ = rb.Build();
    max_ts_ = 0;
    const uint64_t accepted_before = accepted_;
    for (const auto& sm : rm.scope_metrics()) {
      for (const auto& m : sm.metrics()) {
        if (m.name().empty()) {
          Reject(RejectReason::kInvalidLabels, PointCount(m),
                 "metric without a name");
          continue;
        }
        if (OtlpMetricName(m.name(), "", OtlpKind::kGauge).empty()) {
          Reject(RejectReason::kInvalidLabels, PointCount(m),
                 absl::StrCat("metric name \"", m.name(),
                              "\" has no letters or digits"));
          continue;
        }
        ConvertMetric(m);
        if (!storage_error_.ok()) return false;
      }
    }
    // target_info carries the resource's other attributes, once per
    // resource, at its newest sample's time.
    Attrs rest;
    for (const auto& kv : rm.resource().attributes()) {
      if (kv.key() != "service.name" && kv.key() != "service.namespace" &&
          kv.key() != "service.instance.id") {
        *rest.Add() = kv;
      }
    }
    if (!rest.empty() && accepted_ > accepted_before) {
      std::optional<RejectReason> failed;
      Emit(PointLabels(rest, "target_info"), max_ts_, 1, nullptr, &failed);
      if (!storage_error_.ok()) return false;
    }
  }
  return true;
}

}  // namespace

OtlpMetricsReceiver::OtlpMetricsReceiver(Appendable* storage,
                                         IngestCounters* counters,
                                         OtlpOptions options)
    : storage_(storage), counters_(counters), options_(options) {}

absl::Status OtlpMetricsReceiver::Export(
    const ExportMetricsServiceRequest& request,
    ExportMetricsServiceResponse* response) {
  uint64_t accepted = 0;
  return DoExport(request, response, &accepted);
}

absl::Status OtlpMetricsReceiver::DoExport(
    const ExportMetricsServiceRequest& request,
    ExportMetricsServiceResponse* response, uint64_t* accepted) {
  counters_->requests.fetch_add(1, std::memory_order_relaxed);
  std::unique_ptr<Appender> app = storage_->NewAppender();
  Converter c(app.get(), counters_, options_.metadata);
  if (!c.Run(request)) {
    (void)app->Rollback();
    counters_->Reject(RejectReason::kStorage);
    PANTAU_LOG(kError, "OTLP metrics append failed",
               {{"err", c.storage_error()}});
    return absl::UnavailableError(
        absl::StrCat("storage error: ", c.storage_error().message()));
  }
  absl::Status commit = app->Commit();
  if (!commit.ok()) {
    counters_->Reject(RejectReason::kStorage);
    PANTAU_LOG(kError, "OTLP metrics commit failed", {{"err", commit}});
    return absl::UnavailableError(
        absl::StrCat("storage error: ", commit.message()));
  }
  counters_->samples_accepted.fetch_add(c.accepted(),
                                        std::memory_order_relaxed);
  *accepted = c.accepted();
  response->Clear();
  if (c.rejected() > 0) {
    response->mutable_partial_success()->set_rejected_data_points(c.rejected());
    response->mutable_partial_success()->set_error_message(c.first_error());
  }
  return absl::OkStatus();
}

}  // namespace pantau::metrics::ingest
