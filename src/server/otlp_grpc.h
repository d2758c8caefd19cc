// The OTLP/gRPC services pantau answers on --otlp.grpc-listen-address.
// gRPC's generated headers stay inside otlp_grpc.cc.
//
// Thread safety: the returned service is called concurrently by gRPC.
#ifndef PANTAU_SERVER_OTLP_GRPC_H_
#define PANTAU_SERVER_OTLP_GRPC_H_

#include <memory>

namespace grpc {
class Service;
}
namespace pantau::metrics::ingest {
class OtlpMetricsReceiver;
}

namespace pantau::server {

// opentelemetry.proto.collector.metrics.v1.MetricsService/Export, backed
// by `receiver` (which must outlive the service).
std::unique_ptr<grpc::Service> NewOtlpMetricsService(
    metrics::ingest::OtlpMetricsReceiver* receiver);

}  // namespace pantau::server

#endif  // PANTAU_SERVER_OTLP_GRPC_H_
