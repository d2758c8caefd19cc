// The SDK's metrics pushed into a running `pantau serve` (the built binary,
// on free loopback ports with its own storage directory) over OTLP/HTTP and
// OTLP/gRPC, then read back through /api/v1/query: what a user of both
// sees. Checks the OTLP-to-Prometheus translation a user queries by: job
// and instance from service.name and service.instance.id, "_total" on
// counters, "_bucket"/"_sum"/"_count" on histograms with the unit in the
// name, labels and values.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "nlohmann/json.hpp"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/otlp_exporter.h"
#include "pantau/sdk/otlp_grpc.h"
#include "pantau/sdk/otlp_http.h"
#include "pantau/sdk/resource.h"
#include "pantau/sdk/semconv.h"

extern char** environ;

namespace pantau::sdk {
namespace {

using nlohmann::json;

// A `pantau serve` child process; its three listeners on ports the kernel
// picks, read back from its JSON log.
class PantauProcess {
 public:
  PantauProcess() {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("sdk_e2e_", ::getpid(), "_", ++counter_);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~PantauProcess() {
    Stop();
    std::filesystem::remove_all(dir_);
  }

  // Starts the server and waits until it says it is ready.
  ::testing::AssertionResult Start() {
    std::string log = (dir_ / "pantau.log").string();
    std::string storage = "--storage.path=" + (dir_ / "data").string();
    std::vector<std::string> args = {PANTAU_BINARY,
                                     "serve",
                                     "--web.listen-address=127.0.0.1:0",
                                     "--otlp.http-listen-address=127.0.0.1:0",
                                     "--otlp.grpc-listen-address=127.0.0.1:0",
                                     storage,
                                     "--log.format=json"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc =
        posix_spawn(&pid_, PANTAU_BINARY, &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      pid_ = 0;
      return ::testing::AssertionFailure()
             << "spawn " << PANTAU_BINARY << ": " << strerror(rc);
    }
    // Start-up replays an empty WAL: well under a second; the bound is
    // only there so a broken server fails the test instead of hanging it.
    for (int i = 0; i < 300; ++i) {
      if (ReadPorts(log)) return ::testing::AssertionSuccess();
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        return ::testing::AssertionFailure()
               << "pantau exited during start-up:\n"
               << ReadFile(log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ::testing::AssertionFailure() << "pantau not ready:\n"
                                         << ReadFile(log);
  }

  void Stop() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = 0;
  }

  int web_port() const { return web_port_; }
  int otlp_http_port() const { return otlp_http_port_; }
  int otlp_grpc_port() const { return otlp_grpc_port_; }
  std::string log() const { return ReadFile((dir_ / "pantau.log").string()); }

 private:
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // True once the log has the ready line and all three ports.
  bool ReadPorts(const std::string& path) {
    std::istringstream lines(ReadFile(path));
    bool ready = false;
    for (std::string line; std::getline(lines, line);) {
      json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("msg")) continue;
      std::string msg = j["msg"].get<std::string>();
      int port = 0;
      if (j.contains("port")) {
        port = j["port"].is_number() ? j["port"].get<int>()
                                     : std::stoi(j["port"].get<std::string>());
      }
      if (msg == "listening") web_port_ = port;
      if (msg == "listening for OTLP/HTTP") otlp_http_port_ = port;
      if (msg == "listening for OTLP/gRPC") otlp_grpc_port_ = port;
      if (msg == "server is ready to receive requests") ready = true;
    }
    return ready && web_port_ > 0 && otlp_http_port_ > 0 && otlp_grpc_port_ > 0;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  pid_t pid_ = 0;
  int web_port_ = 0;
  int otlp_http_port_ = 0;
  int otlp_grpc_port_ = 0;
};

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// One instant-vector result: its labels and value.
struct Sample {
  std::map<std::string, std::string> labels;
  double value = 0;
};

class SdkE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(pantau_.Start()); }

  // The vector result of an instant query at the server's "now".
  std::vector<Sample> Query(const std::string& promql) {
    std::string url = absl::StrCat("http://127.0.0.1:", pantau_.web_port(),
                                   "/api/v1/query?query=", UrlEncode(promql));
    auto resp = client_.Get(url);
    EXPECT_TRUE(resp.ok()) << resp.status();
    if (!resp.ok()) return {};
    EXPECT_EQ(resp->status, 200) << resp->body;
    json j = json::parse(resp->body, nullptr, false);
    EXPECT_EQ(j.value("status", ""), "success") << resp->body;
    std::vector<Sample> out;
    if (!j.contains("data") || j["data"].value("resultType", "") != "vector") {
      ADD_FAILURE() << "not a vector result: " << resp->body;
      return out;
    }
    for (const json& r : j["data"]["result"]) {
      Sample s;
      for (auto& [k, v] : r["metric"].items())
        s.labels[k] = v.get<std::string>();
      s.value = std::stod(r["value"][1].get<std::string>());
      out.push_back(std::move(s));
    }
    return out;
  }

  // The single series `promql` selects. Ingest is acknowledged only after
  // the samples are appended, so one query suffices.
  std::optional<Sample> One(const std::string& promql) {
    std::vector<Sample> r = Query(promql);
    if (r.size() != 1) {
      ADD_FAILURE() << promql << ": " << r.size() << " series, want 1\n"
                    << pantau_.log();
      return std::nullopt;
    }
    return r[0];
  }

  PantauProcess pantau_;
  net::HttpClient client_{net::HttpClient::Options{}};
};

Resource ShopResource(std::string name, std::string instance) {
  return Resource::Create({{semconv::kServiceName, std::move(name)},
                           {"service.instance.id", std::move(instance)},
                           {"service.version", std::string("1.2.3")}});
}

// A counter without "_total" and a histogram with unit "s", as a service
// instruments itself; pushed by the periodic reader over OTLP/HTTP.
TEST_F(SdkE2eTest, MetricsPushedOverOtlpHttpAreQueryable) {
  Registry reg;
  Counter& orders = reg.CounterFamily({.name = "shop_orders",
                                       .help = "Orders placed.",
                                       .label_names = {"payment"}})
                        .WithLabels({"card"});
  Histogram& latency = reg.HistogramFamily({.name = "shop_checkout_duration",
                                            .help = "Checkout latency.",
                                            .label_names = {"route"},
                                            .unit = "s"},
                                           {0.1, 1})
                           .WithLabels({"/checkout"});
  orders.Add(3);
  latency.Observe(0.05);
  latency.Observe(0.5);
  latency.Observe(2);

  auto exporter = std::make_shared<OtlpMetricExporter>(OtlpExporterOptions{
      .transport = MakeOtlpHttpTransport(
          {.endpoint =
               absl::StrCat("http://127.0.0.1:", pantau_.otlp_http_port())})});
  PeriodicMetricReader reader(reg, exporter, ShopResource("shop", "shop-1"),
                              absl::Hours(1));
  ASSERT_TRUE(reader.ForceFlush().ok()) << pantau_.log();
  EXPECT_EQ(exporter->rejected(), 0u);

  std::optional<Sample> s = One("shop_orders_total");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->labels["job"], "shop");
  EXPECT_EQ(s->labels["instance"], "shop-1");
  EXPECT_EQ(s->labels["payment"], "card");
  EXPECT_EQ(s->value, 3);

  // Cumulative: a later push replaces the value a query sees.
  orders.Add(2);
  ASSERT_TRUE(reader.ForceFlush().ok());
  s = One("shop_orders_total{job=\"shop\"}");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value, 5);

  std::map<std::string, double> buckets;
  for (const Sample& b : Query("shop_checkout_duration_seconds_bucket")) {
    EXPECT_EQ(b.labels.at("job"), "shop");
    EXPECT_EQ(b.labels.at("instance"), "shop-1");
    EXPECT_EQ(b.labels.at("route"), "/checkout");
    buckets[b.labels.at("le")] = b.value;
  }
  EXPECT_EQ(buckets,
            (std::map<std::string, double>{{"0.1", 1}, {"1", 2}, {"+Inf", 3}}));
  s = One("shop_checkout_duration_seconds_count{route=\"/checkout\"}");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value, 3);
  s = One("shop_checkout_duration_seconds_sum{instance=\"shop-1\"}");
  ASSERT_TRUE(s.has_value());
  EXPECT_DOUBLE_EQ(s->value, 2.55);

  // PromQL over the translated names works as on scraped data.
  s = One("histogram_quantile(0.5, shop_checkout_duration_seconds_bucket)");
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(s->value, 0.1);
  EXPECT_LE(s->value, 1);
}

// The same over OTLP/gRPC; a counter already named "_total" keeps one
// suffix, and an up-down counter (a non-monotonic sum) becomes a gauge.
TEST_F(SdkE2eTest, MetricsPushedOverOtlpGrpcAreQueryable) {
  Registry reg;
  reg.CounterFamily({.name = "billing_payments_total",
                     .help = "Payments.",
                     .label_names = {"currency"}})
      .WithLabels({"EUR"})
      .Add(7);
  reg.GetUpDownCounter("billing_inflight", "In-flight payments.").Add(4);
  Histogram& h = reg.GetHistogram("billing_amount", "Amounts.", {10, 100});
  h.Observe(5);
  h.Observe(50);

  OtlpMetricExporter exporter(OtlpExporterOptions{
      .transport = MakeOtlpGrpcTransport(
          {.target = absl::StrCat("127.0.0.1:", pantau_.otlp_grpc_port())})});
  ASSERT_TRUE(
      exporter.Export(reg.Collect(), ShopResource("billing", "b-7")).ok())
      << pantau_.log();
  EXPECT_EQ(exporter.rejected(), 0u);

  std::optional<Sample> s = One("billing_payments_total");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->labels["job"], "billing");
  EXPECT_EQ(s->labels["instance"], "b-7");
  EXPECT_EQ(s->labels["currency"], "EUR");
  EXPECT_EQ(s->value, 7);
  EXPECT_TRUE(Query("billing_payments_total_total").empty());

  s = One("billing_inflight");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->labels["job"], "billing");
  EXPECT_EQ(s->value, 4);

  s = One("billing_amount_bucket{le=\"100\"}");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value, 2);
  s = One("billing_amount_sum");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value, 55);
  s = One("billing_amount_count{job=\"billing\",instance=\"b-7\"}");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value, 2);
}

// Both transports into one server: two services, told apart by job.
TEST_F(SdkE2eTest, TwoServicesOverBothTransportsKeepTheirJobs) {
  Registry a, b;
  a.GetCounter("jobs_done_total", "Jobs.").Add(1);
  b.GetCounter("jobs_done_total", "Jobs.").Add(2);
  OtlpMetricExporter http(OtlpExporterOptions{
      .transport = MakeOtlpHttpTransport(
          {.endpoint =
               absl::StrCat("http://127.0.0.1:", pantau_.otlp_http_port()),
           .gzip = false})});
  OtlpMetricExporter grpc(OtlpExporterOptions{
      .transport = MakeOtlpGrpcTransport(
          {.target = absl::StrCat("127.0.0.1:", pantau_.otlp_grpc_port()),
           .gzip = false})});
  ASSERT_TRUE(http.Export(a.Collect(), ShopResource("worker", "w-1")).ok());
  ASSERT_TRUE(grpc.Export(b.Collect(), ShopResource("scheduler", "s-1")).ok());

  std::map<std::string, double> by_job;
  for (const Sample& s : Query("jobs_done_total")) {
    by_job[s.labels.at("job")] = s.value;
  }
  EXPECT_EQ(by_job,
            (std::map<std::string, double>{{"worker", 1}, {"scheduler", 2}}));
  std::optional<Sample> s = One("sum(jobs_done_total)");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->value, 3);
}

}  // namespace
}  // namespace pantau::sdk
