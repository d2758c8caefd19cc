#include "pantau/sdk/traced_http_client.h"

#include <chrono>

#include "pantau/sdk/semconv.h"

namespace pantau::sdk {
namespace {

struct UrlParts {
  std::string host;
  int64_t port = 80;
};

// Host and port of an "http://host[:port]/..." URL; best effort, for
// attributes only (the client validates the URL itself).
UrlParts SplitUrl(std::string_view url) {
  UrlParts p;
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  size_t colon = url.rfind(':');
  if (colon != std::string_view::npos && url.find(']', colon) == url.npos) {
    p.host = std::string(url.substr(0, colon));
    int64_t port = 0;
    for (char c : url.substr(colon + 1)) {
      if (c < '0' || c > '9') return p;
      port = port * 10 + (c - '0');
      if (port > 65535) return p;
    }
    p.port = port;
  } else {
    p.host = std::string(url);
  }
  if (p.host.size() > 1 && p.host.front() == '[') {
    p.host = p.host.substr(1, p.host.size() - 2);
  }
  return p;
}

}  // namespace

TracedHttpClient::TracedHttpClient(net::HttpClient* client,
                                   HttpInstrumentationOptions options)
    : client_(client), propagate_(options.propagate) {
  TracerProvider* provider = options.tracer_provider != nullptr
                                 ? options.tracer_provider
                                 : &GlobalTracerProvider();
  Registry* registry =
      options.registry != nullptr ? options.registry : &Registry::Default();
  tracer_ = &provider->GetTracer("pantau.sdk.http.client", "0.1.0");
  duration_ = &registry->HistogramFamily(
      {.name = "http_client_request_duration_seconds",
       .help = "Duration of HTTP client requests.",
       .label_names = {"http_request_method", "server_address",
                       "http_response_status_code"},
       .unit = "s"},
      HttpDurationBuckets());
}

absl::StatusOr<net::HttpClientResponse> TracedHttpClient::Do(
    net::HttpClientRequest request) {
  auto started = std::chrono::steady_clock::now();
  std::string_view method = NormalizeHttpMethod(request.method);
  UrlParts url = SplitUrl(request.url);
  Span span = tracer_->StartSpan(method, {.kind = SpanKind::kClient});
  if (span.IsRecording()) {
    span.SetAttribute(semconv::kHttpRequestMethod, std::string(method));
    span.SetAttribute(semconv::kUrlFull, request.url);
    span.SetAttribute(semconv::kServerAddress, url.host);
    span.SetAttribute(semconv::kServerPort, url.port);
  }
  if (propagate_) {
    HttpHeadersCarrier carrier(&request.headers);
    InjectTraceContext(span.context(), carrier);
  }
  absl::StatusOr<net::HttpClientResponse> resp = client_->Do(request);
  std::string code;
  if (resp.ok()) {
    code = std::to_string(resp->status);
    span.SetAttribute(semconv::kHttpResponseStatusCode,
                      static_cast<int64_t>(resp->status));
    if (resp->status >= 400) {
      span.SetAttribute(semconv::kErrorType, code);
      span.SetStatus(StatusCode::kError);
    }
  } else {
    span.SetAttribute(semconv::kErrorType,
                      absl::StatusCodeToString(resp.status().code()));
    span.SetStatus(StatusCode::kError, std::string(resp.status().message()));
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
          .count();
  {
    Scope scope(span);
    duration_->WithLabels({method, url.host, code}).Observe(seconds);
  }
  return resp;
}

}  // namespace pantau::sdk
