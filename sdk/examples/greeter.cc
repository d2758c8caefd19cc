// The example service of docs/sdk.md: traces, RED metrics, process
// metrics, JSON logs with trace ids, /metrics, OTLP/HTTP export.
// Run: OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 ./sdk_greeter
#include <csignal>

#include "net/http_server.h"
#include "pantau/sdk/http_instrumentation.h"
#include "pantau/sdk/otlp_http.h"
#include "pantau/sdk/sdk.h"

using namespace pantau;

int main() {
  auto resource = sdk::Resource::Create({{"service.name", std::string("greeter")},
                                         {"service.version", std::string("1.0.0")}});
  sdk::OtlpExporterOptions otlp{.transport = sdk::MakeOtlpHttpTransport(sdk::OtlpHttpOptionsFromEnv())};
  sdk::TracerProviderOptions tracing{.resource = resource};
  tracing.processors.push_back(std::make_shared<sdk::BatchSpanProcessor>(
      std::make_shared<sdk::OtlpSpanExporter>(otlp)));
  sdk::SetGlobalTracerProvider(std::make_shared<sdk::TracerProvider>(std::move(tracing)));
  sdk::Logger log({.format = sdk::LogFormat::kJson, .resource = resource});

  sdk::Registry& metrics = sdk::Registry::Default();
  metrics.AddCollector(std::make_shared<sdk::ProcessCollector>());
  sdk::Counter& greetings = metrics.GetCounter("greetings_total", "Greetings sent.");

  auto router = std::make_shared<net::Router>();
  router->Use(sdk::HttpServerMiddleware());  // a span + duration histogram per request
  router->Handle("GET", "/metrics", sdk::PrometheusHandler()).IgnoreError();
  router->Handle("GET", "/hello/:name", [&](const net::HttpRequest& req, net::RequestContext&) {
    greetings.Inc();
    log.Info("greeting", {{"name", req.path_params.Get("name")}});  // carries trace_id
    return net::HttpResponse::Text(200, "hello\n");
  }).IgnoreError();

  net::HttpServer server({.listen_address = ":8080"}, router);
  if (!server.Start().ok()) return 1;
  sigset_t stop;  // serve until SIGINT/SIGTERM, then deliver what is queued
  sigemptyset(&stop), sigaddset(&stop, SIGINT), sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  int sig;
  sigwait(&stop, &sig);
  server.Shutdown(absl::Seconds(5));
  return sdk::GlobalTracerProvider().Shutdown().ok() ? 0 : 1;
}
