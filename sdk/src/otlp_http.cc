#include "pantau/sdk/otlp_http.h"

#include <cstdlib>

#include "absl/time/clock.h"
#include "base/compression.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "net/http_client.h"
#include "pantau/sdk/otlp_exporter.h"
#include "pantau/sdk/resource.h"
#include "pantau/sdk/span_processor.h"

namespace pantau::sdk {
namespace {

// The `message` (field 2) of a google.rpc.Status body, decoded by hand
// since pantau has no google/rpc schema; "" if the body is not one.
std::string RpcStatusMessage(const std::string& body) {
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(body.data()),
      static_cast<int>(body.size()));
  std::string message;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == (2 << 3 | 2)) {
      if (!in.ReadString(&message, 1 << 16)) return "";
    } else if (!google::protobuf::internal::WireFormatLite::SkipField(&in,
                                                                      tag)) {
      return "";
    }
  }
  return message;
}

class HttpTransport : public OtlpTransport {
 public:
  explicit HttpTransport(OtlpHttpOptions options)
      : options_(std::move(options)) {
    while (!options_.endpoint.empty() && options_.endpoint.back() == '/') {
      options_.endpoint.pop_back();
    }
  }

  OtlpResponse Send(const OtlpRequest& request) override {
    net::HttpClientRequest req;
    req.method = "POST";
    req.url = options_.endpoint + std::string(OtlpHttpPath(request.signal));
    req.timeout = request.timeout;
    req.headers.Set("Content-Type", "application/x-protobuf");
    for (const auto& [k, v] : options_.headers) req.headers.Add(k, v);
    if (options_.gzip) {
      // Level 1: nearly the ratio of the default on telemetry for a
      // fraction of the CPU (the exporter's budget is ~1% of a core).
      auto compressed = base::Compress(base::Codec::kGzip, request.body, 1);
      if (compressed.ok()) {
        req.body = std::move(*compressed);
        req.headers.Set("Content-Encoding", "gzip");
      } else {
        req.body = request.body;
      }
    } else {
      req.body = request.body;
    }
    absl::StatusOr<net::HttpClientResponse> resp = client_.Do(req);
    OtlpResponse out;
    if (!resp.ok()) {
      // No answer: connection refused, reset or timed out are worth a
      // retry; a bad URL is not.
      absl::StatusCode c = resp.status().code();
      out.outcome = (c == absl::StatusCode::kUnavailable ||
                     c == absl::StatusCode::kDeadlineExceeded)
                        ? OtlpResponse::Outcome::kRetryable
                        : OtlpResponse::Outcome::kFailed;
      out.message = std::string(resp.status().message());
      return out;
    }
    out.status = resp->status;
    out.outcome = ClassifyHttpStatus(resp->status);
    std::string_view retry_after = resp->headers.Get("Retry-After");
    if (!retry_after.empty()) {
      out.retry_after = ParseRetryAfter(retry_after, absl::Now());
    }
    if (out.outcome == OtlpResponse::Outcome::kOk) {
      out.body = std::move(resp->body);
    } else {
      out.message = RpcStatusMessage(resp->body);
      if (out.message.empty()) out.message = resp->body.substr(0, 256);
    }
    return out;
  }

 private:
  OtlpHttpOptions options_;
  net::HttpClient client_;
};

}  // namespace

std::shared_ptr<OtlpTransport> MakeOtlpHttpTransport(OtlpHttpOptions options) {
  return std::make_shared<HttpTransport>(std::move(options));
}

OtlpHttpOptions OtlpHttpOptionsFromEnv() {
  OtlpHttpOptions o;
  if (const char* e = std::getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); e && *e) {
    o.endpoint = e;
  }
  if (const char* e = std::getenv("OTEL_EXPORTER_OTLP_HEADERS"); e && *e) {
    for (const Attribute& a : ParseResourceAttributes(e)) {
      o.headers.emplace_back(std::string(a.name()),
                             AttributeValueToString(a.value));
    }
  }
  if (const char* e = std::getenv("OTEL_EXPORTER_OTLP_COMPRESSION")) {
    o.gzip = std::string_view(e) != "none";
  }
  return o;
}

std::shared_ptr<TracerProvider> InstallOtlpHttpTracing(
    Resource resource, OtlpHttpOptions options) {
  TracerProviderOptions o;
  o.resource = std::move(resource);
  o.processors.push_back(std::make_shared<BatchSpanProcessor>(
      std::make_shared<OtlpSpanExporter>(OtlpExporterOptions{
          .transport = MakeOtlpHttpTransport(std::move(options))})));
  auto provider = std::make_shared<TracerProvider>(std::move(o));
  SetGlobalTracerProvider(provider);
  return provider;
}

}  // namespace pantau::sdk
