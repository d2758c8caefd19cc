// Conversion of the SDK's spans, log records and metric snapshots into
// OTLP protobuf export requests. Internal: keeps protobuf headers out of
// the public API.
//
// Thread safety: pure functions.
#ifndef PANTAU_SDK_SRC_OTLP_CONVERT_H_
#define PANTAU_SDK_SRC_OTLP_CONVERT_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "pantau/sdk/attributes.h"
#include "pantau/sdk/logs.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/resource.h"
#include "pantau/sdk/span_data.h"

namespace pantau::sdk::internal {

namespace otlp = ::opentelemetry::proto;

void ToAnyValue(const AttributeValue& value, otlp::common::v1::AnyValue* out);
void ToKeyValues(
    const Attributes& attrs,
    google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>* out);
void ToResource(const Resource& resource, otlp::resource::v1::Resource* out);

// Spans are grouped by resource, then by instrumentation scope, keeping the
// order in which each first appears.
// The request messages may live on an arena (the exporters use one so a
// batch costs a few block allocations instead of one per field).
void ToTraceRequest(const std::vector<std::unique_ptr<SpanData>>& spans,
                    otlp::collector::trace::v1::ExportTraceServiceRequest* req);

void ToLogsRequest(const std::vector<std::unique_ptr<LogRecord>>& records,
                   otlp::collector::logs::v1::ExportLogsServiceRequest* req);

// All families under one resource and the scope "pantau.sdk"; points are
// cumulative and stamped with `time_unix_nano`.
void ToMetricsRequest(
    const std::vector<FamilySnapshot>& families, const Resource& resource,
    int64_t time_unix_nano,
    otlp::collector::metrics::v1::ExportMetricsServiceRequest* req);

}  // namespace pantau::sdk::internal

#endif  // PANTAU_SDK_SRC_OTLP_CONVERT_H_
