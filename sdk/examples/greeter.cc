// The example service of docs/sdk.md: traces to OTLP/HTTP, RED metrics and
// process metrics on /metrics, JSON logs carrying trace ids.
// Run: OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 ./sdk_greeter
#include <csignal>

#include "net/http_server.h"
#include "pantau/sdk/http_instrumentation.h"
#include "pantau/sdk/otlp_http.h"
#include "pantau/sdk/sdk.h"

using namespace pantau;

int main() {
  // Block SIGINT/SIGTERM before any thread starts, so main can wait for
  // them with sigwait and shut down cleanly.
  sigset_t stop;
  sigemptyset(&stop), sigaddset(&stop, SIGINT), sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  sdk::Resource resource = sdk::Resource::Create(
      {{"service.name", "greeter"}, {"service.version", "1.0.0"}});
  auto tracing = sdk::InstallOtlpHttpTracing(resource);
  sdk::Logger log({.format = sdk::LogFormat::kJson, .resource = resource});
  sdk::Registry& metrics = sdk::Registry::Default();
  metrics.AddCollector(std::make_shared<sdk::ProcessCollector>());
  sdk::Counter& greetings = metrics.GetCounter("greetings_total", "Greetings.");

  auto router = std::make_shared<net::Router>();
  // A server span and a duration histogram observation per request.
  router->Use(sdk::HttpServerMiddleware());
  (void)router->Handle("GET", "/metrics", sdk::PrometheusHandler());
  (void)router->Handle(
      "GET", "/hello/:name",
      [&](const net::HttpRequest& req, net::RequestContext&) {
        greetings.Inc();
        log.Info("greeting", {{"name", req.path_params.Get("name")}});
        return net::HttpResponse::Text(200, "hello\n");
      });
  net::HttpServer server({.listen_address = ":8080"}, router);
  if (!server.Start().ok()) return 1;

  // Serve until SIGINT/SIGTERM, then deliver the spans still queued.
  int sig;
  sigwait(&stop, &sig);
  server.Shutdown(absl::Seconds(5));
  return tracing->Shutdown().ok() ? 0 : 1;
}
