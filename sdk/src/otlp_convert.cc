#include "otlp_convert.h"

#include <functional>

namespace pantau::sdk::internal {
namespace {

using otlp::common::v1::AnyValue;
using otlp::common::v1::KeyValue;

template <size_t N>
std::string Bytes(const std::array<uint8_t, N>& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), N);
}

struct ToAny {
  AnyValue* out;
  void operator()(bool v) const { out->set_bool_value(v); }
  void operator()(int64_t v) const { out->set_int_value(v); }
  void operator()(double v) const { out->set_double_value(v); }
  void operator()(const std::string& v) const { out->set_string_value(v); }
  template <typename T>
  void operator()(const std::vector<T>& v) const {
    auto* arr = out->mutable_array_value();
    for (const auto& e : v) {
      ToAny{arr->add_values()}(static_cast<T>(e));
    }
  }
};

void ToScope(const InstrumentationScope* scope,
             otlp::common::v1::InstrumentationScope* out) {
  if (scope == nullptr) return;
  out->set_name(scope->name);
  out->set_version(scope->version);
}

// Finds or adds the entry for `key` in a small list kept in first-seen
// order (batches hold a handful of resources and scopes).
template <typename K, typename V>
V* FindOrAdd(std::vector<std::pair<K, V*>>* index, K key,
             const std::function<V*()>& add) {
  for (auto& [k, v] : *index) {
    if (k == key) return v;
  }
  V* v = add();
  index->emplace_back(key, v);
  return v;
}

uint32_t SpanFlags(uint8_t trace_flags, bool parent_is_remote) {
  // Bit 8: "is remote" is known; bit 9: the parent is remote.
  return trace_flags | 0x100u | (parent_is_remote ? 0x200u : 0u);
}

void AddAttribute(
    std::string_view key, std::string_view value,
    google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* out) {
  KeyValue* kv = out->Add();
  kv->set_key(std::string(key));
  kv->mutable_value()->set_string_value(std::string(value));
}

void PointAttributes(
    const FamilySnapshot& f, const PointSnapshot& p,
    google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* out) {
  for (size_t i = 0; i < f.label_names.size() && i < p.label_values.size();
       ++i) {
    // An empty value means "no such label", as in the Prometheus output.
    if (!p.label_values[i].empty()) {
      AddAttribute(f.label_names[i], p.label_values[i], out);
    }
  }
}

}  // namespace

void ToAnyValue(const AttributeValue& value, AnyValue* out) {
  std::visit(ToAny{out}, value);
}

void ToKeyValues(const Attributes& attrs,
                 google::protobuf::RepeatedPtrField<KeyValue>* out) {
  out->Reserve(out->size() + static_cast<int>(attrs.size()));
  for (const Attribute& a : attrs) {
    KeyValue* kv = out->Add();
    kv->set_key(std::string(a.name()));
    ToAnyValue(a.value, kv->mutable_value());
  }
}

void ToResource(const Resource& resource, otlp::resource::v1::Resource* out) {
  ToKeyValues(resource.attributes(), out->mutable_attributes());
}

void ToTraceRequest(
    const std::vector<std::unique_ptr<SpanData>>& spans,
    otlp::collector::trace::v1::ExportTraceServiceRequest* out_req) {
  auto& req = *out_req;
  using RS = otlp::trace::v1::ResourceSpans;
  using SS = otlp::trace::v1::ScopeSpans;
  std::vector<std::pair<const Resource*, RS*>> resources;
  std::vector<std::pair<std::pair<RS*, const InstrumentationScope*>, SS*>>
      scopes;
  for (const auto& sp : spans) {
    const SpanData& s = *sp;
    RS* rs = FindOrAdd<const Resource*, RS>(&resources, s.resource, [&] {
      RS* r = req.add_resource_spans();
      if (s.resource != nullptr) ToResource(*s.resource, r->mutable_resource());
      return r;
    });
    SS* ss = FindOrAdd<std::pair<RS*, const InstrumentationScope*>, SS>(
        &scopes, {rs, s.scope}, [&] {
          SS* x = rs->add_scope_spans();
          ToScope(s.scope, x->mutable_scope());
          return x;
        });
    otlp::trace::v1::Span* out = ss->add_spans();
    out->set_trace_id(Bytes(s.context.trace_id.bytes));
    out->set_span_id(Bytes(s.context.span_id.bytes));
    out->set_trace_state(s.context.trace_state);
    if (s.parent_span_id.IsValid()) {
      out->set_parent_span_id(Bytes(s.parent_span_id.bytes));
    }
    out->set_flags(SpanFlags(s.context.trace_flags, s.parent_is_remote));
    out->set_name(s.name);
    out->set_kind(static_cast<otlp::trace::v1::Span::SpanKind>(s.kind));
    out->set_start_time_unix_nano(s.start_time_unix_nano);
    out->set_end_time_unix_nano(s.end_time_unix_nano);
    ToKeyValues(s.attributes, out->mutable_attributes());
    out->set_dropped_attributes_count(s.dropped_attributes);
    for (const SpanEvent& e : s.events) {
      auto* ev = out->add_events();
      ev->set_time_unix_nano(e.time_unix_nano);
      ev->set_name(e.name);
      ToKeyValues(e.attributes, ev->mutable_attributes());
    }
    out->set_dropped_events_count(s.dropped_events);
    for (const SpanLink& l : s.links) {
      auto* link = out->add_links();
      link->set_trace_id(Bytes(l.context.trace_id.bytes));
      link->set_span_id(Bytes(l.context.span_id.bytes));
      link->set_trace_state(l.context.trace_state);
      ToKeyValues(l.attributes, link->mutable_attributes());
      link->set_flags(SpanFlags(l.context.trace_flags, l.context.is_remote));
    }
    out->set_dropped_links_count(s.dropped_links);
    if (s.status_code != StatusCode::kUnset) {
      auto* st = out->mutable_status();
      st->set_code(
          static_cast<otlp::trace::v1::Status::StatusCode>(s.status_code));
      st->set_message(s.status_message);
    }
  }
}

void ToLogsRequest(
    const std::vector<std::unique_ptr<LogRecord>>& records,
    otlp::collector::logs::v1::ExportLogsServiceRequest* out_req) {
  auto& req = *out_req;
  using RL = otlp::logs::v1::ResourceLogs;
  using SL = otlp::logs::v1::ScopeLogs;
  std::vector<std::pair<const Resource*, RL*>> resources;
  std::vector<std::pair<std::pair<RL*, const InstrumentationScope*>, SL*>>
      scopes;
  for (const auto& rp : records) {
    const LogRecord& r = *rp;
    RL* rl = FindOrAdd<const Resource*, RL>(&resources, r.resource, [&] {
      RL* x = req.add_resource_logs();
      if (r.resource != nullptr) ToResource(*r.resource, x->mutable_resource());
      return x;
    });
    SL* sl = FindOrAdd<std::pair<RL*, const InstrumentationScope*>, SL>(
        &scopes, {rl, r.scope}, [&] {
          SL* x = rl->add_scope_logs();
          ToScope(r.scope, x->mutable_scope());
          return x;
        });
    auto* out = sl->add_log_records();
    out->set_time_unix_nano(r.time_unix_nano);
    out->set_observed_time_unix_nano(r.observed_time_unix_nano);
    out->set_severity_number(
        static_cast<otlp::logs::v1::SeverityNumber>(r.severity));
    out->set_severity_text(std::string(SeverityText(r.severity)));
    out->mutable_body()->set_string_value(r.body);
    ToKeyValues(r.attributes, out->mutable_attributes());
    if (r.trace_id.IsValid()) {
      out->set_trace_id(Bytes(r.trace_id.bytes));
      out->set_span_id(Bytes(r.span_id.bytes));
      out->set_flags(r.trace_flags);
    }
  }
}

void ToMetricsRequest(
    const std::vector<FamilySnapshot>& families, const Resource& resource,
    int64_t time_unix_nano,
    otlp::collector::metrics::v1::ExportMetricsServiceRequest* out_req) {
  namespace m = otlp::metrics::v1;
  auto& req = *out_req;
  auto* rm = req.add_resource_metrics();
  ToResource(resource, rm->mutable_resource());
  auto* sm = rm->add_scope_metrics();
  sm->mutable_scope()->set_name("pantau.sdk");
  for (const FamilySnapshot& f : families) {
    m::Metric* metric = sm->add_metrics();
    metric->set_name(f.name);
    metric->set_description(f.help);
    metric->set_unit(f.unit);
    auto number_point = [&](const PointSnapshot& p, m::NumberDataPoint* dp) {
      PointAttributes(f, p, dp->mutable_attributes());
      dp->set_start_time_unix_nano(p.start_time_unix_nano);
      dp->set_time_unix_nano(time_unix_nano);
      dp->set_as_double(p.value);
    };
    switch (f.type) {
      case MetricType::kCounter:
      case MetricType::kUpDownCounter: {
        m::Sum* sum = metric->mutable_sum();
        sum->set_aggregation_temporality(m::AGGREGATION_TEMPORALITY_CUMULATIVE);
        sum->set_is_monotonic(f.type == MetricType::kCounter);
        for (const PointSnapshot& p : f.points) {
          number_point(p, sum->add_data_points());
        }
        break;
      }
      case MetricType::kGauge: {
        m::Gauge* g = metric->mutable_gauge();
        for (const PointSnapshot& p : f.points) {
          number_point(p, g->add_data_points());
        }
        break;
      }
      case MetricType::kHistogram: {
        m::Histogram* h = metric->mutable_histogram();
        h->set_aggregation_temporality(m::AGGREGATION_TEMPORALITY_CUMULATIVE);
        for (const PointSnapshot& p : f.points) {
          m::HistogramDataPoint* dp = h->add_data_points();
          PointAttributes(f, p, dp->mutable_attributes());
          dp->set_start_time_unix_nano(p.start_time_unix_nano);
          dp->set_time_unix_nano(time_unix_nano);
          dp->set_count(p.count);
          dp->set_sum(p.sum);
          for (uint64_t c : p.bucket_counts) dp->add_bucket_counts(c);
          for (double b : f.bounds) dp->add_explicit_bounds(b);
          for (const Exemplar& e : p.exemplars) {
            m::Exemplar* ex = dp->add_exemplars();
            ex->set_time_unix_nano(e.time_unix_nano);
            ex->set_as_double(e.value);
            ex->set_trace_id(Bytes(e.trace_id.bytes));
            ex->set_span_id(Bytes(e.span_id.bytes));
          }
        }
        break;
      }
    }
  }
}

}  // namespace pantau::sdk::internal
