// A real Prometheus (Debian's 2.42) scrapes a real node_exporter and
// remote-writes to pantau's remote_write receiver served by pantau::net's
// HTTP server; every sample Prometheus stored for `up` and a node_exporter
// series must arrive, with the same timestamps and values.
#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "metrics/ingest/remote_write.h"
#include "metrics/scrape/fake_appendable.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/router.h"
#include "nlohmann/json.hpp"
#include "subprocess.h"

namespace pantau::metrics::ingest {
namespace {

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr char kNodeExporter[] = "/usr/bin/prometheus-node-exporter";

// Samples of one series from Prometheus's own TSDB: t (ms) -> value.
std::map<int64_t, double> QueryPrometheus(net::HttpClient& client, int port,
                                          const std::string& selector) {
  std::map<int64_t, double> out;
  auto r = client.Get(absl::StrCat("http://127.0.0.1:", port,
                                   "/api/v1/query?query=", selector, "[10m]"));
  if (!r.ok() || r->status != 200) return out;
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return out;
  for (const auto& series : j["data"]["result"]) {
    for (const auto& v : series["values"]) {
      int64_t t = static_cast<int64_t>(v[0].get<double>() * 1000 + 0.5);
      out[t] = std::stod(v[1].get<std::string>());
    }
  }
  return out;
}

TEST(PrometheusRemoteWrite, DeliversEverySample) {
  if (!std::filesystem::exists(kPrometheus) ||
      !std::filesystem::exists(kNodeExporter)) {
    GTEST_SKIP() << "prometheus or prometheus-node-exporter not installed";
  }
  metrics::testing::FakeAppendable store;
  IngestCounters counters;
  RemoteWriteReceiver rx(&store, &counters);
  auto router = std::make_shared<net::Router>();
  ASSERT_TRUE(
      router
          ->Handle("POST", "/api/v1/write",
                   [&](const net::HttpRequest& req, net::RequestContext&) {
                     PushResult r =
                         rx.Handle(req.body, req.Header("Content-Encoding"));
                     if (r.http_status == 204) {
                       return net::HttpResponse::Text(204, "");
                     }
                     return net::HttpResponse::Text(r.http_status, r.message);
                   },
                   {.executor = net::Executor::kIngest})
          .ok());
  net::HttpServer::Options so;
  so.listen_address = "127.0.0.1:0";
  so.query_threads = 1;
  so.ingest_threads = 1;
  net::HttpServer server(so, router);
  ASSERT_TRUE(server.Start().ok());

  const std::string dir =
      absl::StrCat(::testing::TempDir(), "/prw_", ::getpid());
  std::filesystem::create_directories(dir);
  const int node_port = pantau::testing::FreePort();
  pantau::testing::Subprocess node;
  ASSERT_TRUE(
      node.Start({kNodeExporter,
                  absl::StrCat("--web.listen-address=127.0.0.1:", node_port)},
                 dir + "/node.log")
          .ok());
  ASSERT_TRUE(node.WaitHttpOk(node_port, "/metrics", absl::Seconds(20)).ok());

  std::ofstream(dir + "/prometheus.yml") << absl::StrCat(
      "global:\n  scrape_interval: 1s\n"
      "scrape_configs:\n  - job_name: node\n"
      "    static_configs: [{targets: ['127.0.0.1:",
      node_port,
      "']}]\n"
      "remote_write:\n  - url: http://127.0.0.1:",
      server.port(),
      "/api/v1/write\n"
      "    queue_config: {batch_send_deadline: 200ms, max_shards: 1}\n");
  const int prom_port = pantau::testing::FreePort();
  pantau::testing::Subprocess prom;
  ASSERT_TRUE(
      prom.Start({kPrometheus, "--config.file=" + dir + "/prometheus.yml",
                  "--storage.tsdb.path=" + dir + "/data",
                  absl::StrCat("--web.listen-address=127.0.0.1:", prom_port)},
                 dir + "/prometheus.log")
          .ok());
  ASSERT_TRUE(prom.WaitHttpOk(prom_port, "/-/ready", absl::Seconds(30)).ok())
      << "see " << dir << "/prometheus.log";

  net::HttpClient client;
  // Wait (bounded) for a few scrapes to be stored and forwarded.
  const std::string kUp = "up{job=\"node\"}";
  std::map<int64_t, double> want;
  absl::Time deadline = absl::Now() + absl::Seconds(40);
  while (absl::Now() < deadline) {
    want = QueryPrometheus(client, prom_port, kUp);
    if (want.size() >= 4) break;
    absl::SleepFor(absl::Milliseconds(250));
  }
  ASSERT_GE(want.size(), 4u);
  auto received = [&](const std::string& name) {
    std::map<int64_t, double> got;
    for (const auto& r : store.samples()) {
      if (r.labels.Get("__name__") == name && r.labels.Get("job") == "node") {
        got[r.t] = r.v;
      }
    }
    return got;
  };
  // Every sample Prometheus holds must arrive (remote write lags a bit,
  // so wait, bounded, until it has).
  auto wait_all = [&](const std::string& name,
                      const std::map<int64_t, double>& want_samples) {
    size_t missing = want_samples.size();
    while (true) {
      std::map<int64_t, double> got = received(name);
      missing = 0;
      for (const auto& [t, v] : want_samples) {
        auto it = got.find(t);
        if (it == got.end() || it->second != v) ++missing;
      }
      if (missing == 0 || absl::Now() > deadline) return missing;
      absl::SleepFor(absl::Milliseconds(100));
    }
  };
  EXPECT_EQ(wait_all("up", want), 0u) << "of " << want.size();
  // A node_exporter series, up to the last scrape compared above.
  std::map<int64_t, double> load;
  for (const auto& [t, v] : QueryPrometheus(client, prom_port, "node_load1")) {
    if (t <= want.rbegin()->first) load[t] = v;
  }
  EXPECT_GE(load.size(), 4u);
  EXPECT_EQ(wait_all("node_load1", load), 0u) << "of " << load.size();
  EXPECT_EQ(counters.Rejected(RejectReason::kBadProtobuf), 0u);
  EXPECT_GT(counters.samples_accepted.load(), 100u);
  server.Shutdown(absl::Seconds(1));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace pantau::metrics::ingest
