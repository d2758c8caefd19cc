// Everything a service needs from libpantau-sdk in one include: tracing,
// propagation, metrics, Prometheus text, logs, OTLP export.
// (HTTP instrumentation: http_instrumentation.h, traced_http_client.h;
// OTLP/HTTP: otlp_http.h; OTLP/gRPC: otlp_grpc.h.)
//
// Thread safety: see each header.
#ifndef PANTAU_SDK_SDK_H_
#define PANTAU_SDK_SDK_H_

#include "pantau/sdk/logs.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/otlp_exporter.h"
#include "pantau/sdk/process_collector.h"
#include "pantau/sdk/prometheus_text.h"
#include "pantau/sdk/propagation.h"
#include "pantau/sdk/semconv.h"
#include "pantau/sdk/span_processor.h"
#include "pantau/sdk/trace.h"

#endif  // PANTAU_SDK_SDK_H_
