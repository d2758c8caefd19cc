// A minimal metrics server for compat_test.py while `pantau serve` does not
// serve the query API yet: a TSDB, the remote_write receiver at POST
// /api/v1/write and the Prometheus API, on one listener. Not a product
// binary; compat_test.py runs it with --server=compat.
//
//   compat_server <listen host:port> <data dir>
//
// Runs until SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "metrics/api/api.h"
#include "metrics/ingest/ingest_counters.h"
#include "metrics/ingest/remote_write.h"
#include "metrics/promql/engine.h"
#include "metrics/tsdb/db.h"
#include "net/http_server.h"
#include "net/router.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace pantau;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <host:port> <data dir>\n", argv[0]);
    return 2;
  }
  metrics::tsdb::Options db_options;
  db_options.dir = argv[2];
  auto db = metrics::tsdb::DB::Open(db_options);
  if (!db.ok()) {
    std::fprintf(stderr, "open tsdb: %s\n", db.status().ToString().c_str());
    return 1;
  }
  metrics::ingest::IngestCounters counters;
  metrics::ingest::RemoteWriteReceiver receiver(db->get(), &counters);
  metrics::promql::Engine engine(metrics::promql::EngineOptions{});

  auto router = std::make_shared<net::Router>();
  absl::Status st = router->Handle(
      "POST", "/api/v1/write",
      [&](const net::HttpRequest& req, net::RequestContext&) {
        metrics::ingest::PushResult r =
            receiver.Handle(req.body, req.Header("Content-Encoding"));
        if (r.http_status == 204) {
          net::HttpResponse resp;
          resp.status = 204;
          return resp;
        }
        return net::HttpResponse::Error(r.http_status, r.message);
      },
      net::RouteOptions{.executor = net::Executor::kIngest});
  if (st.ok()) {
    st = router->Handle("GET", "/metrics",
                        [](const net::HttpRequest&, net::RequestContext&) {
                          return net::HttpResponse::Text(200, "");
                        });
  }
  metrics::api::ApiDeps deps;
  deps.queryable = db->get();
  deps.engine = &engine;
  if (st.ok()) st = metrics::api::RegisterPrometheusApi(*router, deps);
  if (!st.ok()) {
    std::fprintf(stderr, "routes: %s\n", st.ToString().c_str());
    return 1;
  }
  net::HttpServer::Options options;
  options.listen_address = argv[1];
  options.query_threads = 2;
  options.ingest_threads = 1;
  net::HttpServer server(options, router);
  if (absl::Status s = server.Start(); !s.ok()) {
    std::fprintf(stderr, "listen: %s\n", s.ToString().c_str());
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop) absl::SleepFor(absl::Milliseconds(100));
  server.Shutdown(absl::Seconds(2));
  absl::Status c = (*db)->Close();
  return c.ok() ? 0 : 1;
}
