// Instrumentation for pantau's net module: a server middleware and a
// client wrapper that give a service traces and RED metrics in a few lines.
//
//   router.Use(sdk::HttpServerMiddleware());       // every route traced
//   sdk::TracedHttpClient client(&http_client);    // outgoing calls too
//
// Server: one SERVER span per request named "{method} {route}", continuing
// the caller's W3C trace context, with http.request.method, url.path,
// http.route, client.address and http.response.status_code; 5xx marks the
// span as an error. The span is active while the handler runs (so logs and
// child spans join it) and its context is in RequestContext under
// kSpanContextKey. Each request is observed in the histogram
// http_server_request_duration_seconds{http_request_method, http_route,
// http_response_status_code}.
//
// Client: one CLIENT span per request with http.request.method, url.full,
// server.address, server.port and http.response.status_code, its context
// injected as traceparent/tracestate; duration in
// http_client_request_duration_seconds.
//
// Thread safety: the middleware and TracedHttpClient are safe to use from
// any number of threads.
#ifndef PANTAU_SDK_HTTP_INSTRUMENTATION_H_
#define PANTAU_SDK_HTTP_INSTRUMENTATION_H_

#include <string>
#include <string_view>
#include <vector>

#include "net/handler.h"
#include "net/http_headers.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/propagation.h"
#include "pantau/sdk/trace.h"

namespace pantau::sdk {

// RequestContext key of the server span's SpanContext (std::any holding a
// SpanContext).
inline constexpr std::string_view kSpanContextKey = "sdk.span";

struct HttpInstrumentationOptions {
  // Default (nullptr): GlobalTracerProvider(). Not owned.
  TracerProvider* tracer_provider = nullptr;
  // Default (nullptr): Registry::Default(). Not owned.
  Registry* registry = nullptr;
  // Continue incoming trace context (server) / send it (client). Default
  // true.
  bool propagate = true;
};

// The OpenTelemetry semantic-convention buckets for HTTP durations:
// .005 .01 .025 .05 .075 .1 .25 .5 .75 1 2.5 5 7.5 10 seconds.
std::vector<double> HttpDurationBuckets();

// The method as semconv wants it in attributes and labels: the known
// methods as-is, anything else "_OTHER" (bounding cardinality).
std::string_view NormalizeHttpMethod(std::string_view method);

net::Middleware HttpServerMiddleware(HttpInstrumentationOptions options = {});

// A handler answering with `registry` in Prometheus text format, for
// GET /metrics. `registry` must outlive the handler.
net::Handler PrometheusHandler(const Registry& registry = Registry::Default());

// A TextMapCarrier over net::HttpHeaders (not owned).
class HttpHeadersCarrier : public TextMapCarrier {
 public:
  explicit HttpHeadersCarrier(net::HttpHeaders* headers) : headers_(headers) {}
  std::vector<std::string_view> GetAll(std::string_view name) const override {
    return headers_->GetAll(name);
  }
  void Set(std::string_view name, std::string value) override {
    headers_->Set(name, std::move(value));
  }

 private:
  net::HttpHeaders* headers_;
};

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_HTTP_INSTRUMENTATION_H_
