// OTLP/gRPC transport: unary Export calls on the OTLP collector services
// (TraceService, MetricsService, LogsService), for collectors that only
// listen on :4317. In its own target, pantau_sdk_grpc, so services that do
// not want gRPC never link it.
//
//   auto transport = sdk::MakeOtlpGrpcTransport({.target = "collector:4317"});
//
// Status mapping follows the OTLP specification: CANCELLED,
// DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE and DATA_LOSS are
// retried; RESOURCE_EXHAUSTED only when the server sent RetryInfo (whose
// delay is honoured); everything else fails.
//
// Thread safety: the transport is safe for concurrent Send calls.
#ifndef PANTAU_SDK_OTLP_GRPC_H_
#define PANTAU_SDK_OTLP_GRPC_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pantau/sdk/otlp_transport.h"

namespace pantau::sdk {

struct OtlpGrpcOptions {
  // host:port without a scheme. Default the OTLP/gRPC port on this host.
  std::string target = "localhost:4317";
  // Request metadata (lowercase keys). Default none.
  std::vector<std::pair<std::string, std::string>> metadata;
  // gzip message compression. Default true.
  bool gzip = true;
};

// Plaintext (insecure) channel; TLS is not configured by the SDK.
std::shared_ptr<OtlpTransport> MakeOtlpGrpcTransport(
    OtlpGrpcOptions options = {});

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_OTLP_GRPC_H_
