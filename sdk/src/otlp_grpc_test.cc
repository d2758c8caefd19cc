// OTLP/gRPC against an in-process gRPC receiver on 127.0.0.1:0.
#include "pantau/sdk/otlp_grpc.h"

#include <deque>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"
#include "pantau/sdk/otlp_exporter.h"

namespace pantau::sdk {
namespace {

namespace col = ::opentelemetry::proto::collector;

class TraceReceiver final : public col::trace::v1::TraceService::Service {
 public:
  grpc::Status Export(
      grpc::ServerContext* ctx,
      const col::trace::v1::ExportTraceServiceRequest* req,
      col::trace::v1::ExportTraceServiceResponse* resp) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(*req);
    auto it = ctx->client_metadata().find("x-tenant");
    if (it != ctx->client_metadata().end()) {
      tenant_ = std::string(it->second.data(), it->second.size());
    }
    if (!script_.empty()) {
      grpc::Status s = script_.front();
      script_.pop_front();
      return s;
    }
    resp->mutable_partial_success()->set_rejected_spans(rejected_);
    return grpc::Status::OK;
  }
  void Script(grpc::Status s) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(s));
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return requests_.size();
  }
  std::string tenant() {
    absl::MutexLock lock(&mu_);
    return tenant_;
  }
  col::trace::v1::ExportTraceServiceRequest last() {
    absl::MutexLock lock(&mu_);
    return requests_.back();
  }
  int64_t rejected_ = 0;

 private:
  absl::Mutex mu_;
  std::vector<col::trace::v1::ExportTraceServiceRequest> requests_;
  std::deque<grpc::Status> script_;
  std::string tenant_;
};

struct Server {
  Server() {
    grpc::ServerBuilder b;
    b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    b.RegisterService(&receiver);
    server = b.BuildAndStart();
  }
  ~Server() { server->Shutdown(); }
  TraceReceiver receiver;
  int port = 0;
  std::unique_ptr<grpc::Server> server;
};

std::vector<std::unique_ptr<SpanData>> OneSpan() {
  std::vector<std::unique_ptr<SpanData>> batch;
  auto d = std::make_unique<SpanData>();
  d->name = "op";
  batch.push_back(std::move(d));
  return batch;
}

// google.rpc.Status{code=8, details=[Any{RetryInfo{retry_delay=2.5s}}]}
// encoded by hand.
std::string RetryInfoDetails() {
  std::string duration = "\x08\x02\x10\x80\xca\xb5\xee\x01";  // 2s + 5e8ns
  std::string retry_info = "\x0a" + std::string(1, duration.size()) + duration;
  std::string type = "type.googleapis.com/google.rpc.RetryInfo";
  std::string any = "\x0a" + std::string(1, type.size()) + type + "\x12" +
                    std::string(1, retry_info.size()) + retry_info;
  return std::string("\x08\x08", 2) + "\x1a" + std::string(1, any.size()) + any;
}

TEST(OtlpGrpc, ExportsWithMetadataAndCountsPartialSuccess) {
  Server s;
  s.receiver.rejected_ = 1;
  OtlpSpanExporter exporter(
      {.transport = MakeOtlpGrpcTransport(
           {.target = "127.0.0.1:" + std::to_string(s.port),
            .metadata = {{"x-tenant", "acme"}}})});
  ASSERT_TRUE(exporter.Export(OneSpan()).ok());
  EXPECT_EQ(s.receiver.count(), 1u);
  EXPECT_EQ(s.receiver.tenant(), "acme");
  EXPECT_EQ(s.receiver.last().resource_spans(0).scope_spans(0).spans(0).name(),
            "op");
  EXPECT_EQ(exporter.rejected(), 1u);
}

TEST(OtlpGrpc, RetriesUnavailableAndHonoursRetryInfo) {
  Server s;
  s.receiver.Script(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"));
  s.receiver.Script(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "slow down", RetryInfoDetails()));
  std::vector<absl::Duration> waits;
  OtlpExporterOptions o{.transport = MakeOtlpGrpcTransport(
                            {.target = "127.0.0.1:" + std::to_string(s.port)})};
  o.retry.jitter = false;
  o.retry.sleep = [&](absl::Duration d) { waits.push_back(d); };
  OtlpSpanExporter exporter(o);
  ASSERT_TRUE(exporter.Export(OneSpan()).ok());
  EXPECT_EQ(s.receiver.count(), 3u);
  EXPECT_THAT(waits, ::testing::ElementsAre(absl::Seconds(1),
                                            absl::Milliseconds(2500)));
}

TEST(OtlpGrpc, ResourceExhaustedWithoutRetryInfoAndInvalidArgumentFail) {
  Server s;
  s.receiver.Script(
      grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "too big"));
  s.receiver.Script(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad"));
  OtlpExporterOptions o{.transport = MakeOtlpGrpcTransport(
                            {.target = "127.0.0.1:" + std::to_string(s.port)})};
  o.retry.sleep = [](absl::Duration) {};
  OtlpSpanExporter exporter(o);
  EXPECT_FALSE(exporter.Export(OneSpan()).ok());
  EXPECT_FALSE(exporter.Export(OneSpan()).ok());
  EXPECT_EQ(s.receiver.count(), 2u);
}

}  // namespace
}  // namespace pantau::sdk
