#include "server/server.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/compression.h"
#include "base/log.h"
#include "base/strings.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.grpc.pb.h"
#include "prometheus/remote.pb.h"

namespace pantau::server {
namespace {

// A server on an ephemeral port with its own data directory.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("pantau_server_test_", ::getpid(), "_", counter_++);
    std::filesystem::create_directories(dir_);
    options_.web_listen_address = "127.0.0.1:0";
    options_.storage_path = (dir_ / "data").string();
    options_.web_shutdown_timeout = absl::Seconds(5);
    options_.otlp_grpc_listen_address = "127.0.0.1:0";
    options_.otlp_http_listen_address = "127.0.0.1:0";
  }
  void TearDown() override {
    base::SetLogSink(nullptr);
    std::filesystem::remove_all(dir_);
  }

  // The value of an unlabeled sample in /metrics, or -1.
  double MetricValue(Server& s, std::string_view name) {
    std::string body = Get(s, "/metrics").body;
    std::string key = absl::StrCat("\n", base::Sv(name), " ");
    size_t at = body.find(key);
    if (at == std::string::npos) return -1;
    return std::stod(body.substr(at + key.size()));
  }

  net::HttpClientResponse Get(Server& s, std::string_view path,
                              std::string method = "GET") {
    net::HttpClient client;
    net::HttpClientRequest req;
    req.method = std::move(method);
    req.url = absl::StrCat("http://127.0.0.1:", s.http_port(), base::Sv(path));
    auto resp = client.Do(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *resp : net::HttpClientResponse{};
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  Options options_;
};

TEST_F(ServerTest, HealthReadyAndUnknownRoutes) {
  Server s(options_, {});
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(Get(s, "/-/healthy").status, 200);
  auto ready = Get(s, "/-/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "pantau is Ready.\n");
  EXPECT_EQ(Get(s, "/no/such/thing").status, 404);
  EXPECT_EQ(Get(s, "/metrics", "DELETE").status, 405);
  s.Shutdown();
}

TEST_F(ServerTest, MetricsCountRequestsByRoutePattern) {
  Server s(options_, {});
  ASSERT_TRUE(s.Start().ok());
  Get(s, "/-/healthy");
  Get(s, "/-/healthy");
  Get(s, "/nope");
  auto m = Get(s, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(
      m.body.find(
          "pantau_http_requests_total{handler=\"/-/healthy\",code=\"200\"} 2"),
      std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find(
                "pantau_http_requests_total{handler=\"other\",code=\"404\"} 1"),
            std::string::npos);
  EXPECT_NE(m.body.find("pantau_http_request_duration_seconds_bucket{handler="
                        "\"/-/healthy\",le=\"+Inf\"} 2"),
            std::string::npos);
  EXPECT_NE(m.body.find("process_resident_memory_bytes"), std::string::npos);
  EXPECT_NE(m.body.find("process_open_fds"), std::string::npos);
  EXPECT_NE(m.body.find("pantau_build_info{"), std::string::npos);
}

// The acceptance check: /metrics is valid exposition format according to
// Prometheus's own linter.
TEST_F(ServerTest, MetricsPassPromtoolCheck) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool not installed (Debian package prometheus)";
  }
  Server s(options_, {});
  ASSERT_TRUE(s.Start().ok());
  Get(s, "/-/healthy");
  Get(s, "/x");
  std::string body = Get(s, "/metrics").body;
  std::string path = (dir_ / "metrics.txt").string();
  std::ofstream(path) << body;
  std::string cmd = absl::StrCat("promtool check metrics < ", path, " 2>&1");
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int rc = ::pclose(p);
  EXPECT_EQ(rc, 0) << out;
  // promtool prints lint problems even with exit code 0 for some checks.
  EXPECT_EQ(out, "") << out;
}

TEST_F(ServerTest, SecondServerOnSameDataDirIsRefused) {
  Server a(options_, {});
  ASSERT_TRUE(a.Start().ok());
  Server b(options_, {});
  absl::Status s = b.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("in use by another pantau"), std::string::npos);
}

TEST_F(ServerTest, AddressInUseIsAClearError) {
  Server a(options_, {});
  ASSERT_TRUE(a.Start().ok());
  Options o = options_;
  o.storage_path = (dir_ / "other").string();
  o.web_listen_address = absl::StrCat("127.0.0.1:", a.http_port());
  Server b(o, {});
  absl::Status s = b.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(std::to_string(a.http_port())), std::string::npos)
      << s.message();
}

TEST_F(ServerTest, ReloadAppliesFileAndKeepsRunningConfigOnError) {
  std::string cfg = (dir_ / "pantau.yml").string();
  std::ofstream(cfg) << "log:\n  level: info\n";
  options_.config_file = cfg;
  options_.web_enable_lifecycle = true;
  Server s(options_, {{"web.enable-lifecycle", "true"},
                      {"web.listen-address", "127.0.0.1:0"},
                      {"storage.path", options_.storage_path}});
  ASSERT_TRUE(s.Start().ok());

  std::ofstream(cfg) << "log:\n  level: debug\n";
  EXPECT_EQ(Get(s, "/-/reload", "POST").status, 200);
  EXPECT_EQ(s.options().log_level, "debug");
  EXPECT_TRUE(base::LogEnabled(base::LogLevel::kDebug));

  // Exemplar capacity changes live; retention only on restart.
  std::ofstream(cfg) << "log:\n  level: debug\nstorage:\n  exemplars:\n"
                        "    max_exemplars: 7\n  retention:\n    time: 1d\n";
  EXPECT_EQ(Get(s, "/-/reload", "POST").status, 200);
  EXPECT_EQ(MetricValue(s, "pantau_exemplar_max_exemplars"), 7);
  EXPECT_EQ(s.options().storage_exemplars_max_exemplars, 7);
  EXPECT_EQ(s.options().storage_retention_time, absl::Hours(24 * 15));

  std::ofstream(cfg) << "log:\n  levle: warn\n";
  auto resp = Get(s, "/-/reload", "POST");
  EXPECT_EQ(resp.status, 500);
  EXPECT_NE(resp.body.find("log.levle: unknown field"), std::string::npos)
      << resp.body;
  EXPECT_EQ(s.options().log_level, "debug");  // unchanged
  EXPECT_NE(
      Get(s, "/metrics").body.find("pantau_config_last_reload_successful 0"),
      std::string::npos);
  base::SetLogLevel(base::LogLevel::kInfo);
}

TEST_F(ServerTest, LifecycleEndpointsNeedTheFlag) {
  Server s(options_, {});
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(Get(s, "/-/reload", "POST").status, 403);
  EXPECT_EQ(Get(s, "/-/quit", "POST").status, 403);
}

TEST_F(ServerTest, QuitCallsTheStopHook) {
  options_.web_enable_lifecycle = true;
  Server s(options_, {});
  bool quit = false;
  s.set_on_quit([&] { quit = true; });
  ASSERT_TRUE(s.Start().ok());
  EXPECT_EQ(Get(s, "/-/quit", "POST").status, 200);
  EXPECT_TRUE(quit);
}

// POSTs a body to /api/v1/write as Prometheus does; returns the HTTP status.
int PostWrite(Server& s, std::string body, std::string* body_out = nullptr) {
  net::HttpClient client;
  net::HttpClientRequest r;
  r.method = "POST";
  r.url = absl::StrCat("http://127.0.0.1:", s.http_port(), "/api/v1/write");
  r.headers.Set("Content-Encoding", "snappy");
  r.headers.Set("Content-Type", "application/x-protobuf");
  r.headers.Set("X-Prometheus-Remote-Write-Version", "0.1.0");
  r.body = std::move(body);
  auto resp = client.Do(r);
  if (!resp.ok()) return -1;
  if (body_out != nullptr) *body_out = resp->body;
  return resp->status;
}

int RemoteWrite(Server& s, const prometheus::WriteRequest& req,
                std::string* body_out = nullptr) {
  return PostWrite(
      s, *base::Compress(base::Codec::kSnappy, req.SerializeAsString()),
      body_out);
}

prometheus::TimeSeries* AddSeries(prometheus::WriteRequest* req,
                                  std::string name, std::string le,
                                  int64_t t_ms, double v) {
  auto* ts = req->add_timeseries();
  auto* l = ts->add_labels();
  l->set_name("__name__");
  l->set_value(std::move(name));
  if (!le.empty()) {
    l = ts->add_labels();
    l->set_name("le");
    l->set_value(std::move(le));
  }
  auto* sample = ts->add_samples();
  sample->set_value(v);
  sample->set_timestamp(t_ms);
  return ts;
}

TEST_F(ServerTest, RemoteWriteWithSnappyBodyIsStored) {
  Server s(options_, {});
  ASSERT_TRUE(s.Start().ok());
  prometheus::WriteRequest req;
  AddSeries(&req, "rw_test_metric", "", absl::ToUnixMillis(absl::Now()), 42);
  std::string body;
  EXPECT_EQ(RemoteWrite(s, req, &body), 204) << body;
  EXPECT_EQ(MetricValue(s, "pantau_ingest_samples_total"), 1);

  // Garbage is a 400 (not retried by senders) and the server keeps going.
  EXPECT_EQ(PostWrite(s, "definitely not snappy"), 400);
  EXPECT_EQ(Get(s, "/-/healthy").status, 200);
  EXPECT_EQ(MetricValue(s, "pantau_ingest_samples_total"), 1);
}

TEST_F(ServerTest, ExemplarsAndMetadataFromRemoteWriteAreQueryable) {
  const int64_t now = absl::ToUnixMillis(absl::Now());
  prometheus::WriteRequest req;
  auto* ts = AddSeries(&req, "req_duration_seconds_bucket", "0.5", now, 3);
  auto* ex = ts->add_exemplars();
  ex->set_value(0.42);
  ex->set_timestamp(now);
  auto* el = ex->add_labels();
  el->set_name("trace_id");
  el->set_value("4bf92f3577b34da6a3ce929d0e0e4736");
  auto* md = req.add_metadata();
  md->set_type(prometheus::MetricMetadata::HISTOGRAM);
  md->set_metric_family_name("req_duration_seconds");
  md->set_help("Request latency.");
  {
    Server s(options_, {});
    ASSERT_TRUE(s.Start().ok());
    std::string body;
    ASSERT_EQ(RemoteWrite(s, req, &body), 204) << body;
    std::string q = absl::StrCat(
        "/api/v1/query_exemplars?query=req_duration_seconds_bucket&start=",
        now / 1000 - 60, "&end=", now / 1000 + 60);
    auto resp = Get(s, q);
    EXPECT_EQ(resp.status, 200);
    EXPECT_NE(
        resp.body.find("\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\""),
        std::string::npos)
        << resp.body;
    EXPECT_NE(resp.body.find("\"value\":\"0.42\""), std::string::npos)
        << resp.body;
    resp = Get(s, "/api/v1/metadata?metric=req_duration_seconds");
    EXPECT_NE(resp.body.find("\"type\":\"histogram\",\"help\":\"Request "
                             "latency.\""),
              std::string::npos)
        << resp.body;
    EXPECT_EQ(MetricValue(s, "pantau_exemplar_exemplars_in_storage"), 1);
    s.Shutdown();
  }
  // Exemplars survive a restart (the log is replayed).
  Server s(options_, {});
  ASSERT_TRUE(s.Start().ok());
  auto resp = Get(s, absl::StrCat("/api/v1/query_exemplars?query=req_duration_"
                                  "seconds_bucket&start=",
                                  now / 1000 - 60, "&end=", now / 1000 + 60));
  EXPECT_NE(resp.body.find("4bf92f3577b34da6a3ce929d0e0e4736"),
            std::string::npos)
      << resp.body;
}

TEST_F(ServerTest, SeriesLimitFlagRefusesNewSeriesWithA400) {
  options_.storage_max_series = 2;
  Server limited(options_, {});
  ASSERT_TRUE(limited.Start().ok());
  const int64_t now = absl::ToUnixMillis(absl::Now());
  prometheus::WriteRequest req;
  AddSeries(&req, "a", "", now, 1);
  AddSeries(&req, "b", "", now, 1);
  ASSERT_EQ(RemoteWrite(limited, req), 204);
  prometheus::WriteRequest more;
  AddSeries(&more, "a", "", now + 1000, 2);  // known series: fine
  AddSeries(&more, "c", "", now + 1000, 1);  // a third: refused
  std::string body;
  EXPECT_EQ(RemoteWrite(limited, more, &body), 400);
  EXPECT_NE(body.find("limit"), std::string::npos) << body;
  EXPECT_NE(
      Get(limited, "/metrics")
          .body.find("pantau_ingest_rejected_total{reason=\"series_limit\"} 1"),
      std::string::npos);
}

namespace otlp_collector = opentelemetry::proto::collector::metrics::v1;

otlp_collector::ExportMetricsServiceRequest OneGauge(std::string name,
                                                     double value) {
  otlp_collector::ExportMetricsServiceRequest req;
  auto* rm = req.add_resource_metrics();
  auto* attr = rm->mutable_resource()->add_attributes();
  attr->set_key("service.name");
  attr->mutable_value()->set_string_value("checkout");
  auto* m = rm->add_scope_metrics()->add_metrics();
  m->set_name(std::move(name));
  auto* p = m->mutable_gauge()->add_data_points();
  p->set_as_double(value);
  p->set_time_unix_nano(absl::ToUnixNanos(absl::Now()));
  return req;
}

TEST_F(ServerTest, OtlpMetricsOverHttpAndGrpcAreStored) {
  Server s(options_, {});
  ASSERT_TRUE(s.Start().ok());
  ASSERT_GT(s.otlp_http_port(), 0);
  ASSERT_GT(s.otlp_grpc_port(), 0);

  net::HttpClient client;
  net::HttpClientRequest r;
  r.method = "POST";
  r.url = absl::StrCat("http://127.0.0.1:", s.otlp_http_port(), "/v1/metrics");
  r.headers.Set("Content-Type", "application/x-protobuf");
  r.body = OneGauge("queue_depth", 7).SerializeAsString();
  auto resp = client.Do(r);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->status, 200) << resp->body;
  EXPECT_EQ(MetricValue(s, "pantau_ingest_samples_total"), 1);

  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", s.otlp_grpc_port()),
                          grpc::InsecureChannelCredentials());
  auto stub = otlp_collector::MetricsService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  otlp_collector::ExportMetricsServiceResponse out;
  grpc::Status st = stub->Export(&ctx, OneGauge("queue_depth_2", 8), &out);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(out.partial_success().rejected_data_points(), 0);
  EXPECT_EQ(MetricValue(s, "pantau_ingest_samples_total"), 2);
}

}  // namespace
}  // namespace pantau::server
