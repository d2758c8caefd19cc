#include "pantau/sdk/otlp_grpc.h"

#include <chrono>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/grpcpp.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.grpc.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.grpc.pb.h"

namespace pantau::sdk {
namespace {

namespace col = ::opentelemetry::proto::collector;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Calls `fn` with (field number, bytes) for each length-delimited field of
// a serialized message; false if it is malformed.
template <typename Fn>
bool ForEachBytesField(const std::string& data, Fn fn) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(data.data()),
                      static_cast<int>(data.size()));
  while (uint32_t tag = in.ReadTag()) {
    if ((tag & 7) == 2) {
      std::string value;
      uint32_t len;
      if (!in.ReadVarint32(&len) || !in.ReadString(&value, len)) return false;
      fn(tag >> 3, value);
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
  return true;
}

// The retry delay of a google.rpc.RetryInfo in the status details
// (grpc-status-details-bin: google.rpc.Status{details = 3: Any{type_url = 1,
// value = 2}}); decoded by hand as pantau has no google/rpc schema.
std::optional<absl::Duration> RetryDelay(const grpc::Status& status) {
  std::optional<absl::Duration> delay;
  ForEachBytesField(
      status.error_details(), [&](uint32_t field, const std::string& any) {
        if (field != 3) return;
        std::string type_url, value;
        ForEachBytesField(any, [&](uint32_t f, const std::string& v) {
          if (f == 1) type_url = v;
          if (f == 2) value = v;
        });
        if (type_url.size() < 20 ||
            type_url.substr(type_url.size() - 20) != "google.rpc.RetryInfo") {
          return;
        }
        // RetryInfo{retry_delay = 1: Duration{seconds = 1, nanos = 2}}.
        ForEachBytesField(value, [&](uint32_t f, const std::string& dur) {
          if (f != 1) return;
          CodedInputStream in(reinterpret_cast<const uint8_t*>(dur.data()),
                              static_cast<int>(dur.size()));
          int64_t seconds = 0, nanos = 0;
          while (uint32_t tag = in.ReadTag()) {
            uint64_t v;
            if ((tag & 7) != 0 || !in.ReadVarint64(&v)) break;
            if ((tag >> 3) == 1) seconds = static_cast<int64_t>(v);
            if ((tag >> 3) == 2) nanos = static_cast<int32_t>(v);
          }
          delay = absl::Seconds(seconds) + absl::Nanoseconds(nanos);
        });
      });
  return delay;
}

OtlpResponse FromStatus(const grpc::Status& s) {
  OtlpResponse out;
  if (s.ok()) {
    out.outcome = OtlpResponse::Outcome::kOk;
    out.status = 200;
    return out;
  }
  out.message =
      "grpc " + std::to_string(s.error_code()) + ": " + s.error_message();
  out.retry_after = RetryDelay(s);
  switch (s.error_code()) {
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::OUT_OF_RANGE:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DATA_LOSS:
      out.outcome = OtlpResponse::Outcome::kRetryable;
      out.status = 503;
      break;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      out.outcome = out.retry_after ? OtlpResponse::Outcome::kRetryable
                                    : OtlpResponse::Outcome::kFailed;
      out.status = 429;
      break;
    default:
      out.outcome = OtlpResponse::Outcome::kFailed;
      out.status = 400;
  }
  return out;
}

class GrpcTransport : public OtlpTransport {
 public:
  explicit GrpcTransport(OtlpGrpcOptions options)
      : options_(std::move(options)),
        channel_(grpc::CreateChannel(options_.target,
                                     grpc::InsecureChannelCredentials())),
        traces_(col::trace::v1::TraceService::NewStub(channel_)),
        metrics_(col::metrics::v1::MetricsService::NewStub(channel_)),
        logs_(col::logs::v1::LogsService::NewStub(channel_)) {}

  OtlpResponse Send(const OtlpRequest& request) override {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     absl::ToChronoNanoseconds(request.timeout));
    for (const auto& [k, v] : options_.metadata) ctx.AddMetadata(k, v);
    if (options_.gzip) ctx.set_compression_algorithm(GRPC_COMPRESS_GZIP);
    switch (request.signal) {
      case OtlpSignal::kTraces:
        return Call<col::trace::v1::ExportTraceServiceRequest,
                    col::trace::v1::ExportTraceServiceResponse>(
            request, [&](const auto& req, auto* resp) {
              return traces_->Export(&ctx, req, resp);
            });
      case OtlpSignal::kMetrics:
        return Call<col::metrics::v1::ExportMetricsServiceRequest,
                    col::metrics::v1::ExportMetricsServiceResponse>(
            request, [&](const auto& req, auto* resp) {
              return metrics_->Export(&ctx, req, resp);
            });
      case OtlpSignal::kLogs:
        return Call<col::logs::v1::ExportLogsServiceRequest,
                    col::logs::v1::ExportLogsServiceResponse>(
            request, [&](const auto& req, auto* resp) {
              return logs_->Export(&ctx, req, resp);
            });
    }
    return {};
  }

 private:
  // The exporters hand over serialized requests (shared with OTLP/HTTP);
  // gRPC stubs want messages, so parse once here.
  template <typename Req, typename Resp, typename Fn>
  OtlpResponse Call(const OtlpRequest& request, Fn fn) {
    Req req;
    if (!req.ParseFromString(request.body)) {
      return {OtlpResponse::Outcome::kFailed, {}, 0, "unparsable request"};
    }
    Resp resp;
    OtlpResponse out = FromStatus(fn(req, &resp));
    if (out.outcome == OtlpResponse::Outcome::kOk) {
      out.body = resp.SerializeAsString();
    }
    return out;
  }

  OtlpGrpcOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<col::trace::v1::TraceService::Stub> traces_;
  std::unique_ptr<col::metrics::v1::MetricsService::Stub> metrics_;
  std::unique_ptr<col::logs::v1::LogsService::Stub> logs_;
};

}  // namespace

std::shared_ptr<OtlpTransport> MakeOtlpGrpcTransport(OtlpGrpcOptions options) {
  return std::make_shared<GrpcTransport>(std::move(options));
}

}  // namespace pantau::sdk
