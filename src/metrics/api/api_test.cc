#include "metrics/api/api.h"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/promql/testing/memory_queryable.h"
#include "net/router.h"
#include "nlohmann/json.hpp"

namespace pantau::metrics::api {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1700000000000;  // the fake clock's start

class FakeTargets : public TargetsProvider {
 public:
  std::vector<TargetInfo> ActiveTargets() const override {
    TargetInfo b;
    b.scrape_pool = "b";
    b.scrape_url = "http://h2:9100/metrics";
    b.labels = base::Labels::Of({{"job", "b"}, {"instance", "h2:9100"}});
    b.health = "down";
    b.last_error = "connection refused";
    TargetInfo a;
    a.scrape_pool = "a";
    a.scrape_url = "http://h1:9100/metrics";
    a.labels = base::Labels::Of({{"job", "a"}, {"instance", "h1:9100"}});
    a.discovered_labels =
        base::Labels::Of({{"__address__", "h1:9100"}, {"job", "a"}});
    a.health = "up";
    a.last_scrape = absl::FromUnixMillis(kNow - 1500);
    a.last_scrape_duration = absl::Milliseconds(12);
    a.scrape_interval = absl::Seconds(15);
    a.scrape_timeout = absl::Seconds(10);
    return {b, a};
  }
  std::vector<DroppedTargetInfo> DroppedTargets() const override {
    return {DroppedTargetInfo{base::Labels::Of({{"__address__", "x:1"}})}};
  }
};

class FakeMetadata : public MetadataProvider {
 public:
  std::vector<MetricMetadata> Metadata(std::string_view metric) const override {
    std::vector<MetricMetadata> all = {
        {"up", "gauge", "Target up.", ""},
        {"up", "gauge", "Target up.", ""},  // from a second target
        {"http_requests_total", "counter", "Requests.", ""},
        {"http_requests_total", "counter", "All requests.", ""},
    };
    if (metric.empty()) return all;
    std::vector<MetricMetadata> out;
    for (auto& m : all) {
      if (m.metric == metric) out.push_back(m);
    }
    return out;
  }
};

class FakeExemplars : public ExemplarQueryable {
 public:
  absl::StatusOr<std::vector<ExemplarSeries>> SelectExemplars(
      int64_t start, int64_t end,
      const std::vector<std::vector<Matcher>>& sets) override {
    last_sets = sets.size();
    last_start = start;
    last_end = end;
    ExemplarSeries s;
    s.series_labels = base::Labels::Of({{"__name__", "m"}});
    Exemplar e;
    e.labels = base::Labels::Of({{"trace_id", "abc"}});
    e.value = 6;
    e.t = 1600096945479;
    s.exemplars.push_back(e);
    return std::vector<ExemplarSeries>{s};
  }
  size_t last_sets = 0;
  int64_t last_start = 0, last_end = 0;
};

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { Register(EngineOptions()); }

  static promql::EngineOptions EngineOptions() { return {}; }

  void Register(promql::EngineOptions opts) {
    engine_ = std::make_unique<promql::Engine>(opts);
    router_ = std::make_unique<net::Router>();
    ApiDeps deps;
    deps.queryable = &store_;
    deps.engine = engine_.get();
    deps.clock = &clock_;
    deps.targets = &targets_;
    deps.metadata = &metadata_;
    deps.exemplars = &exemplars_;
    deps.build_info = [] {
      BuildInfo b;
      b.version = "0.1.0";
      b.revision = "abc";
      return b;
    };
    deps.config_yaml = [] { return std::string("global:\n  x: 1\n"); };
    deps.flags = [] {
      return std::vector<std::pair<std::string, std::string>>{
          {"storage.tsdb.path", "/data"}, {"query.timeout", "2m"}};
    };
    deps.runtime_info = [] {
      RuntimeInfo r;
      r.start_time = absl::FromUnixSeconds(1700000000);
      r.cwd = "/";
      r.gomaxprocs = 2;
      r.storage_retention = "15d";
      return r;
    };
    deps.external_labels = [] { return base::Labels::Of({{"cluster", "c1"}}); };
    ASSERT_TRUE(RegisterPrometheusApi(*router_, std::move(deps)).ok());
  }

  void Add(base::Labels l, int64_t t, double v) { store_.Add(l, t, v); }

  // Two counters m{i="0"}, m{i="1"} with a sample every 15 s over the last
  // 10 minutes: value = seconds since the start * (i + 1).
  void LoadCounters() {
    for (int i = 0; i < 2; ++i) {
      base::Labels l = base::Labels::Of(
          {{"__name__", "m"}, {"i", std::to_string(i)}, {"job", "j"}});
      for (int64_t t = kNow - 600000; t <= kNow; t += 15000) {
        Add(l, t, static_cast<double>((t - (kNow - 600000)) / 1000 * (i + 1)));
      }
    }
  }

  net::HttpResponse Call(std::string method, std::string path,
                         std::vector<std::pair<std::string, std::string>> ps,
                         bool cancel = false) {
    net::HttpRequest req;
    req.method = std::move(method);
    req.path = path;
    req.target = path;
    for (auto& [k, v] : ps) req.params.Add(k, v);
    net::RequestContext ctx;
    if (cancel) ctx.Cancel();
    return router_->Serve(req, ctx);
  }
  net::HttpResponse Get(
      std::string path,
      std::vector<std::pair<std::string, std::string>> ps = {}) {
    return Call("GET", std::move(path), std::move(ps));
  }
  net::HttpResponse Post(std::string path,
                         std::vector<std::pair<std::string, std::string>> ps) {
    return Call("POST", std::move(path), std::move(ps));
  }

  static json Body(const net::HttpResponse& r) {
    return json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  }
  static void ExpectError(const net::HttpResponse& r, int status,
                          const std::string& type, const std::string& msg) {
    EXPECT_EQ(r.status, status) << r.body;
    json b = Body(r);
    EXPECT_EQ(b.value("status", ""), "error") << r.body;
    EXPECT_EQ(b.value("errorType", ""), type) << r.body;
    EXPECT_EQ(b.value("error", ""), msg) << r.body;
  }

  promql::testing::MemoryQueryable store_;
  base::FakeClock clock_{absl::FromUnixMillis(kNow)};
  FakeTargets targets_;
  FakeMetadata metadata_;
  FakeExemplars exemplars_;
  std::unique_ptr<promql::Engine> engine_;
  std::unique_ptr<net::Router> router_;
};

TEST_F(ApiTest, InstantVectorEnvelopeIsExactlyPrometheus) {
  Add(base::Labels::Of({{"__name__", "up"}, {"job", "a"}}), kNow - 1000, 1);
  net::HttpResponse r =
      Get("/api/v1/query", {{"query", "up"}, {"time", "1700000000.5"}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(
      r.body,
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"up","job":"a"},"value":[1700000000.500,"1"]}]}})");
}

TEST_F(ApiTest, QueryDefaultsTimeToNowAndAcceptsPost) {
  Add(base::Labels::Of({{"__name__", "up"}}), kNow - 1000, 1);
  for (auto r : {Get("/api/v1/query", {{"query", "up"}}),
                 Post("/api/v1/query", {{"query", "up"}})}) {
    ASSERT_EQ(r.status, 200) << r.body;
    json b = Body(r);
    EXPECT_EQ(b["data"]["result"][0]["value"][0].get<double>(), 1700000000.0);
  }
}

TEST_F(ApiTest, ScalarStringAndSpecialValues) {
  json s = Body(Get("/api/v1/query", {{"query", "1/0"}, {"time", "10"}}));
  EXPECT_EQ(s["data"]["resultType"], "scalar");
  EXPECT_EQ(s["data"]["result"], json::parse(R"([10,"+Inf"])"));
  json n = Body(Get("/api/v1/query", {{"query", "-1/0"}, {"time", "10"}}));
  EXPECT_EQ(n["data"]["result"][1], "-Inf");
  json nan = Body(Get("/api/v1/query", {{"query", "0/0"}, {"time", "10"}}));
  EXPECT_EQ(nan["data"]["result"][1], "NaN");
  json str = Body(Get("/api/v1/query", {{"query", "\"hi\""}, {"time", "10"}}));
  EXPECT_EQ(str["data"]["resultType"], "string");
  EXPECT_EQ(str["data"]["result"], json::parse(R"([10,"hi"])"));
}

TEST_F(ApiTest, ScalarAndStringTimesAreJsonFloats) {
  // Unlike vector samples ([1.500,"1"]), Prometheus writes these with Go's
  // float formatting, and a scalar's value never with an exponent.
  EXPECT_EQ(
      Get("/api/v1/query", {{"query", "0.0000001"}, {"time", "1.5"}}).body,
      R"({"status":"success","data":{"resultType":"scalar",)"
      R"("result":[1.5,"0.0000001"]}})");
  EXPECT_EQ(Get("/api/v1/query", {{"query", "\"s\""}, {"time", "2.25"}}).body,
            R"({"status":"success","data":{"resultType":"string",)"
            R"("result":[2.25,"s"]}})");
}

TEST_F(ApiTest, RangeVectorAtInstantIsMatrix) {
  LoadCounters();
  json b = Body(Get("/api/v1/query", {{"query", "m{i=\"0\"}[30s]"}}));
  EXPECT_EQ(b["data"]["resultType"], "matrix");
  ASSERT_EQ(b["data"]["result"].size(), 1u);
  // 2.42 selects [t - range, t], both ends included.
  EXPECT_EQ(b["data"]["result"][0]["values"].size(), 3u);
}

TEST_F(ApiTest, BadQueryIsBadDataWithPosition) {
  net::HttpResponse r = Get("/api/v1/query", {{"query", "sum(up"}});
  EXPECT_EQ(r.status, 400);
  json b = Body(r);
  EXPECT_EQ(b["errorType"], "bad_data");
  std::string msg = b["error"];
  EXPECT_EQ(msg.rfind("invalid parameter \"query\": 1:", 0), 0u) << msg;
  EXPECT_NE(msg.find("parse error"), std::string::npos) << msg;
}

TEST_F(ApiTest, BadTimeAndTimeoutParams) {
  ExpectError(Get("/api/v1/query", {{"query", "1"}, {"time", "yesterday"}}),
              400, "bad_data",
              "invalid parameter \"time\": Invalid time value for 'time': "
              "cannot parse \"yesterday\" to a valid timestamp");
  ExpectError(Get("/api/v1/query", {{"query", "1"}, {"timeout", "soon"}}), 400,
              "bad_data",
              "invalid parameter \"timeout\": cannot parse \"soon\" to a "
              "valid duration");
}

TEST_F(ApiTest, RangeQueryMatrixWithDurationOrFloatStep) {
  LoadCounters();
  std::string start = "1699999700";  // kNow - 300 s
  std::string end = "1700000000";
  for (std::string step : {"1m", "60"}) {
    net::HttpResponse r = Get(
        "/api/v1/query_range",
        {{"query", "m * 2"}, {"start", start}, {"end", end}, {"step", step}});
    ASSERT_EQ(r.status, 200) << r.body;
    json b = Body(r);
    EXPECT_EQ(b["data"]["resultType"], "matrix");
    ASSERT_EQ(b["data"]["result"].size(), 2u);
    const json& s0 = b["data"]["result"][0];
    EXPECT_EQ(s0["metric"], json::parse(R"({"i":"0","job":"j"})"));
    ASSERT_EQ(s0["values"].size(), 6u);
    EXPECT_EQ(s0["values"][0], json::parse(R"([1699999700,"600"])"));
    EXPECT_EQ(s0["values"][5], json::parse(R"([1700000000,"1200"])"));
  }
}

TEST_F(ApiTest, LargeMatrixSameBytesOnOneOrManyThreads) {
  // 40 series x 401 points is above the size from which the response is
  // formatted on several threads; the bytes must be those of one thread.
  for (int i = 0; i < 40; ++i) {
    base::Labels l = base::Labels::Of(
        {{"__name__", "big"}, {"i", std::to_string(i)}, {"job", "j"}});
    for (int64_t t = kNow - 400000; t <= kNow; t += 1000) {
      Add(l, t, static_cast<double>(t % 7919) / (i + 3));
    }
  }
  auto run = [&](int parallelism) {
    promql::EngineOptions opts;
    opts.parallelism = parallelism;
    Register(opts);
    net::HttpResponse r = Get("/api/v1/query_range", {{"query", "big"},
                                                      {"start", "1699999600"},
                                                      {"end", "1700000000"},
                                                      {"step", "1"}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body;
  };
  std::string one = run(1);
  json b = Body(net::HttpResponse::Json(200, one));
  ASSERT_EQ(b["data"]["result"].size(), 40u);
  EXPECT_EQ(b["data"]["result"][39]["values"].size(), 401u);
  EXPECT_EQ(run(4), one);
  EXPECT_EQ(run(3), one);
}

TEST_F(ApiTest, RangeQueryParamErrors) {
  auto q = [&](std::string start, std::string end, std::string step,
               std::string query = "1") {
    return Get(
        "/api/v1/query_range",
        {{"query", query}, {"start", start}, {"end", end}, {"step", step}});
  };
  ExpectError(q("", "10", "1"), 400, "bad_data",
              "invalid parameter \"start\": cannot parse \"\" to a valid "
              "timestamp");
  ExpectError(q("0", "x", "1"), 400, "bad_data",
              "invalid parameter \"end\": cannot parse \"x\" to a valid "
              "timestamp");
  ExpectError(q("10", "0", "1"), 400, "bad_data",
              "invalid parameter \"end\": end timestamp must not be before "
              "start time");
  ExpectError(q("0", "10", ""), 400, "bad_data",
              "invalid parameter \"step\": cannot parse \"\" to a valid "
              "duration");
  ExpectError(q("0", "10", "0"), 400, "bad_data",
              "invalid parameter \"step\": zero or negative query resolution "
              "step widths are not accepted. Try a positive integer");
  ExpectError(q("0", "11001", "1"), 400, "bad_data",
              "exceeded maximum resolution of 11,000 points per timeseries. "
              "Try decreasing the query resolution (?step=XX)");
  EXPECT_EQ(q("0", "11000", "1").status, 200);  // exactly at the limit
  ExpectError(q("0", "10", "1", "m[1m]"), 400, "bad_data",
              "invalid expression type \"range vector\" for range query, "
              "must be Scalar or instant Vector");
  net::HttpResponse bad = q("0", "10", "1", "sum(");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"].get<std::string>().rfind("1:", 0), 0u)
      << bad.body;  // not wrapped, as in Prometheus
}

TEST_F(ApiTest, ExecutionErrorIs422) {
  LoadCounters();
  // Both sides match on nothing: many-to-many.
  net::HttpResponse r = Get("/api/v1/query", {{"query", "m + on() m"}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(Body(r)["errorType"], "execution");
}

TEST_F(ApiTest, TooManySamplesIs422Execution) {
  LoadCounters();
  promql::EngineOptions o;
  o.max_samples = 5;
  Register(o);
  net::HttpResponse r = Get("/api/v1/query", {{"query", "m[10m]"}});
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(Body(r)["errorType"], "execution");
}

TEST_F(ApiTest, TimeoutParamGivesTimeout) {
  LoadCounters();
  net::HttpResponse r =
      Get("/api/v1/query_range", {{"query", "rate(m[1m])"},
                                  {"start", "1699999400"},
                                  {"end", "1700000000"},
                                  {"step", "1"},
                                  {"timeout", "0.000000001"}});
  EXPECT_EQ(r.status, 503) << r.body;
  EXPECT_EQ(Body(r)["errorType"], "timeout");
}

TEST_F(ApiTest, ClientGoneCancelsQuery) {
  LoadCounters();
  net::HttpResponse r =
      Call("GET", "/api/v1/query", {{"query", "sum(m)"}}, /*cancel=*/true);
  EXPECT_EQ(Body(r)["errorType"], "canceled") << r.body;
  EXPECT_NE(r.status, 200);
}

TEST_F(ApiTest, SeriesDedupsAcrossMatchSets) {
  LoadCounters();
  Add(base::Labels::Of({{"__name__", "up"}, {"job", "j"}}), kNow, 1);
  net::HttpResponse r =
      Post("/api/v1/series",
           {{"match[]", "m"}, {"match[]", "{i=\"1\"}"}, {"match[]", "up"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      r.body,
      R"({"status":"success","data":[{"__name__":"m","i":"0","job":"j"},)"
      R"({"__name__":"m","i":"1","job":"j"},{"__name__":"up","job":"j"}]})");
  json lim = Body(Get("/api/v1/series", {{"match[]", "m"}, {"limit", "1"}}));
  EXPECT_EQ(lim["data"].size(), 1u);
  EXPECT_EQ(lim["warnings"][0], "results truncated due to limit");
}

TEST_F(ApiTest, SeriesErrors) {
  ExpectError(Get("/api/v1/series"), 400, "bad_data",
              "no match[] parameter provided");
  // Prometheus: "match[] must contain at least one non-empty matcher";
  // our parser already refuses such a selector with its own wording.
  net::HttpResponse empty = Get("/api/v1/series", {{"match[]", "{i=~\".*\"}"}});
  EXPECT_EQ(empty.status, 400);
  EXPECT_NE(Body(empty)["error"].get<std::string>().find(
                "at least one non-empty matcher"),
            std::string::npos);
  ExpectError(
      Get("/api/v1/series", {{"match[]", "m"}, {"start", "nope"}}), 400,
      "bad_data",
      "invalid parameter \"start\": Invalid time value for 'start': cannot "
      "parse \"nope\" to a valid timestamp");
  net::HttpResponse bad = Get("/api/v1/series", {{"match[]", "m{"}});
  EXPECT_EQ(bad.status, 400);
}

TEST_F(ApiTest, LabelsAndLabelValues) {
  LoadCounters();
  Add(base::Labels::Of({{"__name__", "up"}, {"zone", "z"}}), kNow, 1);
  EXPECT_EQ(Get("/api/v1/labels").body,
            R"({"status":"success","data":["__name__","i","job","zone"]})");
  EXPECT_EQ(Post("/api/v1/labels", {{"match[]", "m"}}).body,
            R"({"status":"success","data":["__name__","i","job"]})");
  EXPECT_EQ(Get("/api/v1/label/__name__/values").body,
            R"({"status":"success","data":["m","up"]})");
  EXPECT_EQ(Get("/api/v1/label/i/values",
                {{"match[]", "m{i=\"1\"}"}, {"match[]", "m{i=\"0\"}"}})
                .body,
            R"({"status":"success","data":["0","1"]})");
  EXPECT_EQ(Get("/api/v1/label/nope/values").body,
            R"({"status":"success","data":[]})");
  ExpectError(Get("/api/v1/label/1x/values"), 400, "bad_data",
              "invalid label name: \"1x\"");
  // label values is GET only in Prometheus.
  EXPECT_EQ(Post("/api/v1/label/i/values", {}).status, 405);
}

TEST_F(ApiTest, MetadataDedupsAndLimits) {
  EXPECT_EQ(Get("/api/v1/metadata").body,
            R"({"status":"success","data":{"http_requests_total":[)"
            R"({"type":"counter","help":"Requests.","unit":""},)"
            R"({"type":"counter","help":"All requests.","unit":""}],)"
            R"("up":[{"type":"gauge","help":"Target up.","unit":""}]}})");
  json one = Body(Get("/api/v1/metadata", {{"limit", "1"}}));
  EXPECT_EQ(one["data"].size(), 1u);
  json up = Body(Get("/api/v1/metadata", {{"metric", "up"}}));
  EXPECT_EQ(up["data"].size(), 1u);
  ExpectError(Get("/api/v1/metadata", {{"limit", "x"}}), 400, "bad_data",
              "limit must be a number");
}

TEST_F(ApiTest, TargetsSortedByPoolWithDroppedFilter) {
  json b = Body(Get("/api/v1/targets"));
  const json& active = b["data"]["activeTargets"];
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0]["scrapePool"], "a");
  EXPECT_EQ(active[0]["health"], "up");
  EXPECT_EQ(active[0]["globalUrl"], "http://h1:9100/metrics");
  EXPECT_EQ(active[0]["lastScrape"], "2023-11-14T22:13:18.5Z");
  EXPECT_EQ(active[0]["lastScrapeDuration"], 0.012);
  EXPECT_EQ(active[0]["scrapeInterval"], "15s");
  EXPECT_EQ(active[0]["discoveredLabels"]["__address__"], "h1:9100");
  EXPECT_EQ(active[1]["lastError"], "connection refused");
  EXPECT_EQ(active[1]["lastScrape"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(b["data"]["droppedTargets"].size(), 1u);
  json dropped = Body(Get("/api/v1/targets", {{"state", "Dropped"}}));
  EXPECT_EQ(dropped["data"]["activeTargets"].size(), 0u);
  EXPECT_EQ(dropped["data"]["droppedTargets"].size(), 1u);
}

TEST_F(ApiTest, StatusEndpoints) {
  json build = Body(Get("/api/v1/status/buildinfo"));
  EXPECT_EQ(build["data"]["version"], "0.1.0");
  EXPECT_TRUE(build["data"].contains("goVersion"));
  EXPECT_EQ(Get("/api/v1/status/config").body,
            R"({"status":"success","data":{"yaml":"global:\n  x: 1\n"}})");
  EXPECT_EQ(Get("/api/v1/status/flags").body,
            R"({"status":"success","data":{"storage.tsdb.path":"/data",)"
            R"("query.timeout":"2m"}})");
  json rt = Body(Get("/api/v1/status/runtimeinfo"));
  EXPECT_EQ(rt["data"]["startTime"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(rt["data"]["GOMAXPROCS"], 2);
  EXPECT_EQ(rt["data"]["storageRetention"], "15d");
  EXPECT_EQ(rt["data"]["reloadConfigSuccess"], true);
}

TEST_F(ApiTest, TsdbStatusFromQueryable) {
  LoadCounters();
  Add(base::Labels::Of({{"__name__", "up"}, {"job", "j"}}), kNow, 1);
  json b = Body(Get("/api/v1/status/tsdb"));
  const json& d = b["data"];
  EXPECT_EQ(d["headStats"]["numSeries"], 3);
  EXPECT_EQ(d["seriesCountByMetricName"],
            json::parse(R"([{"name":"m","value":2},{"name":"up","value":1}])"));
  EXPECT_EQ(d["seriesCountByLabelValuePair"][0],
            json::parse(R"({"name":"job=j","value":3})"));
  EXPECT_EQ(d["labelValueCountByLabelName"][0],
            json::parse(R"({"name":"__name__","value":2})"));
  EXPECT_TRUE(d["memoryInBytesByLabelName"].is_array());
  json one = Body(Get("/api/v1/status/tsdb", {{"limit", "1"}}));
  EXPECT_EQ(one["data"]["seriesCountByMetricName"].size(), 1u);
}

TEST_F(ApiTest, ExemplarsThroughProvider) {
  net::HttpResponse r =
      Post("/api/v1/query_exemplars",
           {{"query", "m + n"}, {"start", "1"}, {"end", "2"}});
  EXPECT_EQ(r.body,
            R"({"status":"success","data":[{"seriesLabels":{"__name__":"m"},)"
            R"("exemplars":[{"labels":{"trace_id":"abc"},"value":"6",)"
            R"("timestamp":1600096945.479}]}]})");
  EXPECT_EQ(exemplars_.last_sets, 2u);
  EXPECT_EQ(exemplars_.last_start, 1000);
  EXPECT_EQ(Get("/api/v1/query_exemplars", {{"query", "1+1"}}).body,
            R"({"status":"success","data":null})");
  ExpectError(Get("/api/v1/query_exemplars",
                  {{"query", "m"}, {"start", "2"}, {"end", "1"}}),
              400, "bad_data",
              "end timestamp must not be before start timestamp");
}

TEST_F(ApiTest, FormatQuery) {
  json b =
      Body(Get("/api/v1/format_query", {{"query", "sum(rate(x[5m]))by(a)"}}));
  EXPECT_EQ(b["status"], "success");
  EXPECT_TRUE(b["data"].is_string());
  EXPECT_NE(b["data"].get<std::string>().find("sum"), std::string::npos);
  net::HttpResponse bad = Post("/api/v1/format_query", {{"query", "sum("}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad)["error"].get<std::string>().rfind(
                "invalid parameter \"query\": ", 0),
            0u);
}

TEST_F(ApiTest, FederateLatestSampleWithinLookback) {
  base::Labels a = base::Labels::Of({{"__name__", "b_metric"}, {"job", "j"}});
  base::Labels old =
      base::Labels::Of({{"__name__", "b_metric"}, {"job", "old"}});
  base::Labels stale =
      base::Labels::Of({{"__name__", "a_metric"}, {"job", "s"}});
  base::Labels c = base::Labels::Of(
      {{"__name__", "a_metric"}, {"cluster", "own"}, {"q", "x\"y"}});
  Add(a, kNow - 20000, 1);
  Add(a, kNow - 5000, 2.5e6);
  Add(old, kNow - 10 * 60 * 1000, 7);  // older than the 5m lookback
  Add(stale, kNow - 30000, 3);
  Add(stale, kNow - 15000, StaleNaN());
  Add(c, kNow - 1000, 0.5);
  net::HttpResponse r = Get("/federate", {{"match[]", "b_metric"},
                                          {"match[]", "{__name__=~\"a_.*\"}"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.headers.Get("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.body,
            "# TYPE a_metric untyped\n"
            "a_metric{cluster=\"own\",q=\"x\\\"y\",instance=\"\"} 0.5 "
            "1699999999000\n"
            "# TYPE b_metric untyped\n"
            "b_metric{job=\"j\",cluster=\"c1\",instance=\"\"} 2.5e+06 "
            "1699999995000\n");
  EXPECT_EQ(Get("/federate", {{"match[]", "up{"}}).status, 400);
  EXPECT_EQ(Get("/federate").body, "");
}

TEST_F(ApiTest, UnknownRouteAndMethod) {
  EXPECT_EQ(Get("/api/v1/nope").status, 404);
  EXPECT_EQ(Post("/api/v1/targets", {}).status, 405);
}

TEST(RegisterPrometheusApi, RequiresQueryableAndEngine) {
  net::Router router;
  EXPECT_EQ(RegisterPrometheusApi(router, ApiDeps{}).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pantau::metrics::api
