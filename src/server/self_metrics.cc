#include "server/self_metrics.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pantau/sdk/process_collector.h"
#include "pantau/sdk/prometheus_text.h"
#include "server/version.h"

namespace pantau::server {

SelfMetrics::SelfMetrics(sdk::Registry* registry) : registry_(registry) {
  requests_ = &registry->CounterFamily(
      {.name = "pantau_http_requests_total",
       .help = "Counter of HTTP requests by handler and status code.",
       .label_names = {"handler", "code"}});
  durations_ = &registry->HistogramFamily(
      {.name = "pantau_http_request_duration_seconds",
       .help = "Histogram of latencies for HTTP requests.",
       .label_names = {"handler"},
       .unit = "s"},
      {0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
  protocol_errors_ = &registry->CounterFamily(
      {.name = "pantau_http_protocol_errors_total",
       .help = "HTTP requests rejected before routing, by reason.",
       .label_names = {"reason"}});
  reload_success_ = &registry->GetGauge(
      "pantau_config_last_reload_successful",
      "Whether the last configuration reload attempt was successful.");
  reload_timestamp_ = &registry->GetGauge(
      "pantau_config_last_reload_success_timestamp_seconds",
      "Timestamp of the last successful configuration reload.");
  reload_success_->Set(1);
  reload_timestamp_->Set(
      absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  registry
      ->GaugeFamily({.name = "pantau_build_info",
                     .help = "A metric with a constant '1' value labeled "
                             "by version and revision of pantau.",
                     .label_names = {"version", "revision"}})
      .WithLabels({kVersion, kRevision})
      .Set(1);
  registry->AddCollector(std::make_shared<sdk::ProcessCollector>());
}

net::Middleware SelfMetrics::HttpMiddleware() {
  return [this](const net::HttpRequest& request, net::RequestContext& ctx,
                const net::Handler& next) {
    absl::Time start = absl::Now();
    net::HttpResponse response = next(request, ctx);
    // Unmatched paths share one label value so scanners cannot blow up
    // cardinality.
    std::string handler = request.route.empty() ? "other" : request.route;
    requests_->WithLabels({handler, absl::StrCat(response.status)}).Inc();
    durations_->WithLabels({handler}).Observe(
        absl::ToDoubleSeconds(absl::Now() - start));
    return response;
  };
}

void SelfMetrics::CountProtocolError(std::string_view reason) {
  protocol_errors_->WithLabels({reason}).Inc();
}

void SelfMetrics::RecordReload(bool success) {
  reload_success_->Set(success ? 1 : 0);
  if (success) {
    reload_timestamp_->Set(
        absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  }
}

net::Handler SelfMetrics::MetricsHandler() const {
  return [this](const net::HttpRequest&, net::RequestContext&) {
    net::HttpResponse response;
    response.status = 200;
    response.headers.Set("Content-Type",
                         std::string(sdk::kPrometheusTextContentType));
    response.body = sdk::PrometheusText(*registry_);
    return response;
  };
}

}  // namespace pantau::server
