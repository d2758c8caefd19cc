// pantau's metrics about itself, exported on its own /metrics: the process
// (CPU, memory, file descriptors), HTTP requests by handler and code with
// duration histograms, protocol errors by reason, build info. Built on the
// SDK's registry, so the server is instrumented the way it asks services to
// be.
//
// Thread safety: safe for concurrent use; the middleware runs on every
// request thread.
#ifndef PANTAU_SERVER_SELF_METRICS_H_
#define PANTAU_SERVER_SELF_METRICS_H_

#include <memory>
#include <string>
#include <string_view>

#include "net/handler.h"
#include "pantau/sdk/metrics.h"

namespace pantau::server {

class SelfMetrics {
 public:
  // Registers pantau's families in `registry`, which must outlive this.
  explicit SelfMetrics(sdk::Registry* registry);

  // Counts and times every routed request as
  //   pantau_http_requests_total{handler, code}
  //   pantau_http_request_duration_seconds{handler}
  // where handler is the route pattern ("/api/v1/query"), never the raw
  // path, so cardinality stays bounded.
  net::Middleware HttpMiddleware();

  // Counts a request rejected before routing (bad request line, too large,
  // too slow) by reason.
  void CountProtocolError(std::string_view reason);

  // Counts a successful or failed configuration reload.
  void RecordReload(bool success);

  // The /metrics handler: the registry in Prometheus text format.
  net::Handler MetricsHandler() const;

 private:
  sdk::Registry* registry_;
  sdk::Family<sdk::Counter>* requests_;
  sdk::Family<sdk::Histogram>* durations_;
  sdk::Family<sdk::Counter>* protocol_errors_;
  sdk::Gauge* reload_success_;
  sdk::Gauge* reload_timestamp_;
};

}  // namespace pantau::server

#endif  // PANTAU_SERVER_SELF_METRICS_H_
