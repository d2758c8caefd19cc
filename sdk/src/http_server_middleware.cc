#include <chrono>

#include "pantau/sdk/http_instrumentation.h"
#include "pantau/sdk/prometheus_text.h"
#include "pantau/sdk/semconv.h"

namespace pantau::sdk {
namespace {

// Read-only view of request headers for extraction.
class ConstHeadersCarrier : public TextMapCarrier {
 public:
  explicit ConstHeadersCarrier(const net::HttpHeaders& h) : h_(h) {}
  std::vector<std::string_view> GetAll(std::string_view name) const override {
    return h_.GetAll(name);
  }
  void Set(std::string_view, std::string) override {}

 private:
  const net::HttpHeaders& h_;
};

// "ip:port" or "[v6]:port" → the address part.
std::string_view PeerAddress(std::string_view remote) {
  if (!remote.empty() && remote.front() == '[') {
    size_t close = remote.find(']');
    return close == std::string_view::npos ? remote
                                           : remote.substr(1, close - 1);
  }
  size_t colon = remote.rfind(':');
  return colon == std::string_view::npos ? remote : remote.substr(0, colon);
}

}  // namespace

std::vector<double> HttpDurationBuckets() {
  return {.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10};
}

std::string_view NormalizeHttpMethod(std::string_view method) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "DELETE",
                                 "CONNECT", "OPTIONS", "TRACE", "PATCH"}) {
    if (method == known) return known;
  }
  return "_OTHER";
}

net::Middleware HttpServerMiddleware(HttpInstrumentationOptions options) {
  TracerProvider* provider = options.tracer_provider != nullptr
                                 ? options.tracer_provider
                                 : &GlobalTracerProvider();
  Registry* registry =
      options.registry != nullptr ? options.registry : &Registry::Default();
  Tracer* tracer = &provider->GetTracer("pantau.sdk.http.server", "0.1.0");
  Family<Histogram>* duration = &registry->HistogramFamily(
      {.name = "http_server_request_duration_seconds",
       .help = "Duration of HTTP server requests.",
       .label_names = {"http_request_method", "http_route",
                       "http_response_status_code"},
       .unit = "s"},
      HttpDurationBuckets());
  bool propagate = options.propagate;
  return [tracer, duration, propagate](const net::HttpRequest& req,
                                       net::RequestContext& ctx,
                                       const net::Handler& next) {
    auto started = std::chrono::steady_clock::now();
    std::optional<SpanContext> parent;
    if (propagate)
      parent = ExtractTraceContext(ConstHeadersCarrier(req.headers));
    std::string_view method = NormalizeHttpMethod(req.method);
    std::string name(method);
    if (!req.route.empty()) {
      name += ' ';
      name += req.route;
    }
    Span span = tracer->StartSpan(
        name, {.kind = SpanKind::kServer,
               .parent = parent ? &*parent : nullptr,
               .root = !parent.has_value(),
               .start_time_unix_nano = absl::ToUnixNanos(ctx.start_time())});
    if (span.IsRecording()) {
      span.SetAttribute(semconv::kHttpRequestMethod, std::string(method));
      if (method != req.method) {
        span.SetAttribute("http.request.method_original", req.method);
      }
      span.SetAttribute(semconv::kUrlPath, req.path);
      if (!req.raw_query.empty()) {
        span.SetAttribute(semconv::kUrlQuery, req.raw_query);
      }
      if (!req.route.empty()) span.SetAttribute(semconv::kHttpRoute, req.route);
      span.SetAttribute(semconv::kUrlScheme, "http");
      span.SetAttribute(semconv::kClientAddress,
                        std::string(PeerAddress(req.remote_address)));
      std::string_view ua = req.headers.Get("User-Agent");
      if (!ua.empty()) {
        span.SetAttribute(semconv::kUserAgentOriginal, std::string(ua));
      }
    }
    ctx.SetValue(std::string(kSpanContextKey), span.context());
    net::HttpResponse resp;
    {
      Scope scope(span);
      resp = next(req, ctx);
    }
    span.SetAttribute(semconv::kHttpResponseStatusCode,
                      static_cast<int64_t>(resp.status));
    if (resp.status >= 500) {
      span.SetAttribute(semconv::kErrorType, std::to_string(resp.status));
      span.SetStatus(StatusCode::kError);
    }
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - started)
                         .count();
    // The exemplar carries this request's trace, so a slow bucket links to
    // a trace of a slow request.
    {
      Scope scope(span);
      duration->WithLabels({method, req.route, std::to_string(resp.status)})
          .Observe(seconds);
    }
    return resp;
  };
}

net::Handler PrometheusHandler(const Registry& registry) {
  const Registry* r = &registry;
  return [r](const net::HttpRequest&, net::RequestContext&) {
    net::HttpResponse resp;
    resp.headers.Set("Content-Type", std::string(kPrometheusTextContentType));
    resp.body = PrometheusText(*r);
    return resp;
  };
}

}  // namespace pantau::sdk
