// OTLP/HTTP with binary protobuf bodies over pantau's net::HttpClient:
// POST {endpoint}/v1/traces, /v1/metrics, /v1/logs with Content-Type
// application/x-protobuf, optionally gzip-compressed.
//
//   auto transport = sdk::MakeOtlpHttpTransport(sdk::OtlpHttpOptionsFromEnv());
//
// Only http:// endpoints (the client has no TLS yet).
//
// Thread safety: the transport is safe for concurrent Send calls.
#ifndef PANTAU_SDK_OTLP_HTTP_H_
#define PANTAU_SDK_OTLP_HTTP_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pantau/sdk/otlp_transport.h"
#include "pantau/sdk/resource.h"
#include "pantau/sdk/trace.h"

namespace pantau::sdk {

struct OtlpHttpOptions {
  // Base URL; the signal's path is appended. Default the OTLP/HTTP port on
  // this host.
  std::string endpoint = "http://localhost:4318";
  // Extra request headers (e.g. authorization). Default none.
  std::vector<std::pair<std::string, std::string>> headers;
  // Send bodies gzip-compressed. Default true.
  bool gzip = true;
};

std::shared_ptr<OtlpTransport> MakeOtlpHttpTransport(
    OtlpHttpOptions options = {});

// Defaults overridden by OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_HEADERS (k=v,k2=v2, values percent-decoded) and
// OTEL_EXPORTER_OTLP_COMPRESSION ("gzip" or "none").
OtlpHttpOptions OtlpHttpOptionsFromEnv();

// Makes a TracerProvider that batches spans to OTLP/HTTP with `resource`
// (default sampler, BatchOptions defaults), sets it as the global provider
// and returns it. The one-line setup for services.
std::shared_ptr<TracerProvider> InstallOtlpHttpTracing(
    Resource resource, OtlpHttpOptions options = OtlpHttpOptionsFromEnv());

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_OTLP_HTTP_H_
