#include "server/otlp_grpc.h"

#include <grpcpp/grpcpp.h>

#include "metrics/ingest/otlp_metrics.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"

namespace pantau::server {
namespace {

namespace otlp = opentelemetry::proto::collector::metrics::v1;

grpc::StatusCode ToGrpcCode(absl::StatusCode code) {
  // absl and gRPC share the canonical code numbering.
  return static_cast<grpc::StatusCode>(static_cast<int>(code));
}

class MetricsService final : public otlp::MetricsService::Service {
 public:
  explicit MetricsService(metrics::ingest::OtlpMetricsReceiver* receiver)
      : receiver_(receiver) {}

  grpc::Status Export(grpc::ServerContext*,
                      const otlp::ExportMetricsServiceRequest* request,
                      otlp::ExportMetricsServiceResponse* response) override {
    absl::Status s = receiver_->Export(*request, response);
    if (s.ok()) return grpc::Status::OK;
    return grpc::Status(ToGrpcCode(s.code()), std::string(s.message()));
  }

 private:
  metrics::ingest::OtlpMetricsReceiver* receiver_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewOtlpMetricsService(
    metrics::ingest::OtlpMetricsReceiver* receiver) {
  return std::make_unique<MetricsService>(receiver);
}

}  // namespace pantau::server
