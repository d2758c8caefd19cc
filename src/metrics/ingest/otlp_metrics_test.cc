#include "metrics/ingest/otlp_metrics.h"

#include "base/compression.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/ingest/metadata_store.h"
#include "metrics/ingest/otlp_names.h"
#include "metrics/scrape/fake_appendable.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace pantau::metrics::ingest {
namespace {

using base::Labels;
using ::testing::HasSubstr;
namespace pb = opentelemetry::proto;
using pb::collector::metrics::v1::ExportMetricsServiceRequest;
using pb::collector::metrics::v1::ExportMetricsServiceResponse;

constexpr uint64_t kT = 1700000000123000000ull;  // ns
constexpr int64_t kTms = 1700000000123;

TEST(OtlpNames, MetricNamesFollowPrometheus) {
  EXPECT_EQ(
      OtlpMetricName("http.server.request.duration", "s", OtlpKind::kHistogram),
      "http_server_request_duration_seconds");
  EXPECT_EQ(OtlpMetricName("system.network.io", "By", OtlpKind::kMonotonicSum),
            "system_network_io_bytes_total");
  EXPECT_EQ(OtlpMetricName("requests.total", "1", OtlpKind::kMonotonicSum),
            "requests_total");
  EXPECT_EQ(OtlpMetricName("cpu.utilization", "1", OtlpKind::kGauge),
            "cpu_utilization_ratio");
  EXPECT_EQ(OtlpMetricName("speed", "m/s", OtlpKind::kGauge),
            "speed_meters_per_second");
  EXPECT_EQ(OtlpMetricName("queue", "{requests}", OtlpKind::kMonotonicSum),
            "queue_total");
  EXPECT_EQ(OtlpMetricName("latency_seconds", "s", OtlpKind::kGauge),
            "latency_seconds");
  EXPECT_EQ(OtlpMetricName("2xx", "", OtlpKind::kGauge), "_2xx");
  EXPECT_EQ(OtlpMetricName("disk", "%", OtlpKind::kNonMonotonicSum),
            "disk_percent");
  EXPECT_EQ(OtlpLabelName("http.method"), "http_method");
  EXPECT_EQ(OtlpLabelName("1a"), "key_1a");
  EXPECT_EQ(OtlpLabelName("_a"), "key_a");
  EXPECT_EQ(OtlpLabelName("__a"), "__a");
}

void SetAttr(pb::common::v1::KeyValue* kv, const std::string& k,
             const std::string& v) {
  kv->set_key(k);
  kv->mutable_value()->set_string_value(v);
}

class OtlpTest : public ::testing::Test {
 protected:
  pb::metrics::v1::ResourceMetrics* Resource(ExportMetricsServiceRequest* r) {
    auto* rm = r->add_resource_metrics();
    SetAttr(rm->mutable_resource()->add_attributes(), "service.name", "shop");
    SetAttr(rm->mutable_resource()->add_attributes(), "service.namespace",
            "prod");
    SetAttr(rm->mutable_resource()->add_attributes(), "service.instance.id",
            "pod-1");
    SetAttr(rm->mutable_resource()->add_attributes(), "host.name", "h1");
    return rm;
  }
  pb::metrics::v1::Metric* AddMetric(pb::metrics::v1::ResourceMetrics* rm,
                                     const std::string& name,
                                     const std::string& unit) {
    if (rm->scope_metrics_size() == 0) rm->add_scope_metrics();
    auto* m = rm->mutable_scope_metrics(0)->add_metrics();
    m->set_name(name);
    m->set_unit(unit);
    return m;
  }
  Labels L(std::initializer_list<std::pair<std::string_view, std::string_view>>
               extra) {
    base::LabelsBuilder b(
        Labels::Of({{"job", "prod/shop"}, {"instance", "pod-1"}}));
    for (auto [k, v] : extra) b.Set(k, v);
    return b.Build();
  }
  std::string Proto(const ExportMetricsServiceRequest& r) {
    return r.SerializeAsString();
  }

  testing::FakeAppendable store_;
  IngestCounters counters_;
  OtlpMetricsReceiver rx_{&store_, &counters_};
};

TEST_F(OtlpTest, GaugeSumAndTargetInfo) {
  ExportMetricsServiceRequest req;
  auto* rm = Resource(&req);
  auto* g = AddMetric(rm, "queue.size", "");
  auto* p = g->mutable_gauge()->add_data_points();
  p->set_time_unix_nano(kT);
  p->set_as_int(7);
  SetAttr(p->add_attributes(), "queue.name", "a");
  auto* s = AddMetric(rm, "http.requests", "{request}");
  s->mutable_sum()->set_is_monotonic(true);
  s->mutable_sum()->set_aggregation_temporality(
      pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* sp = s->mutable_sum()->add_data_points();
  sp->set_time_unix_nano(kT);
  sp->set_as_double(42);
  auto* ex = sp->add_exemplars();
  ex->set_trace_id(
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b"
                  "\x0c\x0d\x0e\x0f\x10",
                  16));
  ex->set_as_double(1);
  ex->set_time_unix_nano(kT);

  ExportMetricsServiceResponse resp;
  ASSERT_TRUE(rx_.Export(req, &resp).ok());
  EXPECT_FALSE(resp.has_partial_success());
  EXPECT_THAT(
      store_.Series(L({{"__name__", "queue_size"}, {"queue_name", "a"}})),
      ::testing::ElementsAre(::testing::FieldsAre(kTms, 7)));
  EXPECT_EQ(store_.Series(L({{"__name__", "http_requests_total"}}))[0].v, 42);
  EXPECT_EQ(store_.Series(L({{"__name__", "target_info"}, {"host_name", "h1"}}))
                .size(),
            1u);
  ASSERT_EQ(store_.exemplars().size(), 1u);
  EXPECT_EQ(store_.exemplars()[0].exemplar.labels.Get("trace_id"),
            "0102030405060708090a0b0c0d0e0f10");
}

TEST_F(OtlpTest, HistogramAsClassicBucketsAndSummary) {
  ExportMetricsServiceRequest req;
  auto* rm = Resource(&req);
  auto* h = AddMetric(rm, "rpc.duration", "ms");
  h->mutable_histogram()->set_aggregation_temporality(
      pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* p = h->mutable_histogram()->add_data_points();
  p->set_time_unix_nano(kT);
  p->set_count(10);
  p->set_sum(123.5);
  for (double b : {5.0, 10.0}) p->add_explicit_bounds(b);
  for (uint64_t c : {2, 3, 5}) p->add_bucket_counts(c);
  auto* ex = p->add_exemplars();
  ex->set_as_double(7);
  ex->set_span_id(std::string("\xaa\xbb", 2));

  auto* s = AddMetric(rm, "gc.pause", "s");
  auto* sp = s->mutable_summary()->add_data_points();
  sp->set_time_unix_nano(kT);
  sp->set_count(4);
  sp->set_sum(2);
  auto* q = sp->add_quantile_values();
  q->set_quantile(0.99);
  q->set_value(0.8);

  ExportMetricsServiceResponse resp;
  ASSERT_TRUE(rx_.Export(req, &resp).ok());
  const std::string b = "rpc_duration_milliseconds_bucket";
  EXPECT_EQ(store_.Series(L({{"__name__", b}, {"le", "5"}}))[0].v, 2);
  EXPECT_EQ(store_.Series(L({{"__name__", b}, {"le", "10"}}))[0].v, 5);
  EXPECT_EQ(store_.Series(L({{"__name__", b}, {"le", "+Inf"}}))[0].v, 10);
  EXPECT_EQ(
      store_.Series(L({{"__name__", "rpc_duration_milliseconds_sum"}}))[0].v,
      123.5);
  EXPECT_EQ(
      store_.Series(L({{"__name__", "rpc_duration_milliseconds_count"}}))[0].v,
      10);
  ASSERT_EQ(store_.exemplars().size(), 1u);
  EXPECT_EQ(store_.exemplars()[0].series.Get("le"), "10");
  EXPECT_EQ(store_.exemplars()[0].exemplar.labels.Get("span_id"), "aabb");
  EXPECT_EQ(store_
                .Series(L({{"__name__", "gc_pause_seconds"},
                           {"quantile", "0.99"}}))[0]
                .v,
            0.8);
  EXPECT_EQ(store_.Series(L({{"__name__", "gc_pause_seconds_count"}}))[0].v, 4);
}

TEST_F(OtlpTest, DeltaAndExponentialRejectedWithPartialSuccess) {
  ExportMetricsServiceRequest req;
  auto* rm = Resource(&req);
  auto* s = AddMetric(rm, "d", "");
  s->mutable_sum()->set_aggregation_temporality(
      pb::metrics::v1::AGGREGATION_TEMPORALITY_DELTA);
  s->mutable_sum()->add_data_points()->set_time_unix_nano(kT);
  s->mutable_sum()->add_data_points()->set_time_unix_nano(kT);
  auto* e = AddMetric(rm, "e", "");
  e->mutable_exponential_histogram()->add_data_points();
  auto* bad = AddMetric(rm, "...", "");
  bad->mutable_gauge()->add_data_points()->set_time_unix_nano(kT);
  auto* g = AddMetric(rm, "ok", "");
  auto* gp = g->mutable_gauge()->add_data_points();
  gp->set_time_unix_nano(kT);
  gp->set_as_double(1);

  ExportMetricsServiceResponse resp;
  ASSERT_TRUE(rx_.Export(req, &resp).ok());
  EXPECT_EQ(resp.partial_success().rejected_data_points(), 4);
  EXPECT_THAT(resp.partial_success().error_message(), HasSubstr("delta"));
  EXPECT_EQ(counters_.Rejected(RejectReason::kUnsupported), 3u);
  EXPECT_EQ(counters_.Rejected(RejectReason::kInvalidLabels), 1u);
  EXPECT_EQ(store_.Series(L({{"__name__", "ok"}})).size(), 1u);
}

TEST_F(OtlpTest, OutOfOrderIsPartialAndNoRecordedValueIsStale) {
  ExportMetricsServiceRequest req;
  auto* rm = Resource(&req);
  auto* g = AddMetric(rm, "m", "");
  auto* p1 = g->mutable_gauge()->add_data_points();
  p1->set_time_unix_nano(kT);
  p1->set_as_double(1);
  auto* p2 = g->mutable_gauge()->add_data_points();
  p2->set_time_unix_nano(kT - 1000000000);  // a second earlier
  p2->set_as_double(2);
  auto* p3 = g->mutable_gauge()->add_data_points();
  p3->set_time_unix_nano(kT + 1000000000);
  p3->set_flags(1);  // no recorded value
  ExportMetricsServiceResponse resp;
  ASSERT_TRUE(rx_.Export(req, &resp).ok());
  EXPECT_EQ(resp.partial_success().rejected_data_points(), 1);
  EXPECT_THAT(resp.partial_success().error_message(),
              HasSubstr("out of order"));
  auto m = store_.Series(L({{"__name__", "m"}}));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(m[1].v));
  EXPECT_EQ(counters_.Rejected(RejectReason::kOutOfOrder), 1u);
}

TEST_F(OtlpTest, HttpProtobufGzipAndJson) {
  ExportMetricsServiceRequest req;
  auto* g = AddMetric(Resource(&req), "m", "");
  auto* p = g->mutable_gauge()->add_data_points();
  p->set_time_unix_nano(kT);
  p->set_as_double(3);
  OtlpHttpResult r =
      rx_.HandleHttp(*base::Compress(base::Codec::kGzip, Proto(req)),
                     "application/x-protobuf", "gzip");
  EXPECT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/x-protobuf");
  EXPECT_EQ(r.samples_accepted, 2u);  // m and target_info

  const char* json = R"({"resourceMetrics":[{"resource":{"attributes":[
      {"key":"service.name","value":{"stringValue":"api"}}]},
    "scopeMetrics":[{"metrics":[{"name":"jobs","unit":"1",
      "sum":{"aggregationTemporality":2,"isMonotonic":true,
        "dataPoints":[{"timeUnixNano":"1700000000123000000","asInt":"5",
          "exemplars":[{"traceId":"5b8efff798038103d269b633813fc60c",
                        "asDouble":1,"timeUnixNano":"1700000000000000000"}],
          "attributes":[{"key":"k","value":{"intValue":"3"}}]}]}}]}],
    "futureField": 1}]})";
  r = rx_.HandleHttp(json, "application/json", "");
  EXPECT_EQ(r.http_status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  auto s = store_.Series(
      Labels::Of({{"__name__", "jobs_total"}, {"job", "api"}, {"k", "3"}}));
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].v, 5);
  bool found = false;
  for (const auto& e : store_.exemplars()) {
    found = found || e.exemplar.labels.Get("trace_id") ==
                         "5b8efff798038103d269b633813fc60c";
  }
  EXPECT_TRUE(found);
}

TEST_F(OtlpTest, HttpBadInput) {
  EXPECT_EQ(
      rx_.HandleHttp("\xff\xff\xff", "application/x-protobuf", "").http_status,
      400);
  EXPECT_EQ(rx_.HandleHttp("{not json", "application/json", "").http_status,
            400);
  EXPECT_EQ(rx_.HandleHttp(R"({"resourceMetrics": 5})", "application/json", "")
                .http_status,
            400);
  EXPECT_EQ(rx_.HandleHttp("x", "text/plain", "").http_status, 415);
  EXPECT_EQ(rx_.HandleHttp("x", "application/x-protobuf", "gzip").http_status,
            400);
  EXPECT_EQ(rx_.HandleHttp("x", "application/x-protobuf", "br").http_status,
            415);
  IngestCounters c;
  OtlpMetricsReceiver small(&store_, &c, {.max_body_bytes = 10});
  EXPECT_EQ(small.HandleHttp(std::string(11, 'x'), "application/x-protobuf", "")
                .http_status,
            413);
  EXPECT_EQ(counters_.Rejected(RejectReason::kBadJson), 2u);
  EXPECT_EQ(counters_.Rejected(RejectReason::kBadProtobuf), 2u);
}

TEST_F(OtlpTest, StorageFailureIs503) {
  ExportMetricsServiceRequest req;
  auto* g = AddMetric(Resource(&req), "m", "");
  auto* p = g->mutable_gauge()->add_data_points();
  p->set_time_unix_nano(kT);
  store_.FailAppends(absl::InternalError("disk"));
  OtlpHttpResult r = rx_.HandleHttp(Proto(req), "application/x-protobuf", "");
  EXPECT_EQ(r.http_status, 503);
  ExportMetricsServiceResponse resp;
  EXPECT_EQ(rx_.Export(req, &resp).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.rollbacks(), 2);
}

TEST_F(OtlpTest, RecordsMetadataUnderPrometheusNames) {
  MetadataStore metadata;
  OtlpOptions opts;
  opts.metadata = &metadata;
  OtlpMetricsReceiver rx(&store_, &counters_, opts);
  ExportMetricsServiceRequest req;
  auto* rm = Resource(&req);
  auto* s = AddMetric(rm, "http.requests", "{request}");
  s->set_description("Requests served.");
  s->mutable_sum()->set_is_monotonic(true);
  s->mutable_sum()->set_aggregation_temporality(
      pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* sp = s->mutable_sum()->add_data_points();
  sp->set_time_unix_nano(kT);
  sp->set_as_int(3);
  auto* h = AddMetric(rm, "rpc.duration", "s");
  h->set_description("RPC latency.");
  h->mutable_histogram()->set_aggregation_temporality(
      pb::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  auto* hp = h->mutable_histogram()->add_data_points();
  hp->set_time_unix_nano(kT);
  hp->set_count(1);
  hp->set_sum(0.5);
  ExportMetricsServiceResponse resp;
  ASSERT_TRUE(rx.Export(req, &resp).ok());
  auto c = metadata.Get("http_requests_total");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].second.type, "counter");
  EXPECT_EQ(c[0].second.help, "Requests served.");
  auto d = metadata.Get("rpc_duration_seconds");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].second.type, "histogram");
  EXPECT_EQ(d[0].second.unit, "s");
}

// Metadata is served back as JSON: a description or unit that is not UTF-8
// is not recorded (the API could not encode it faithfully), while the
// metric's samples are still stored.
TEST_F(OtlpTest, MetadataWithInvalidUtf8IsSkippedButSamplesAreStored) {
  MetadataStore metadata;
  OtlpOptions opts;
  opts.metadata = &metadata;
  OtlpMetricsReceiver rx(&store_, &counters_, opts);
  ExportMetricsServiceRequest req;
  auto* rm = Resource(&req);
  auto* bad_help = AddMetric(rm, "queue.depth", "");
  bad_help->set_description("depth \xff\xfe of the queue");
  auto* p1 = bad_help->mutable_gauge()->add_data_points();
  p1->set_time_unix_nano(kT);
  p1->set_as_double(4);
  auto* bad_unit = AddMetric(rm, "queue.age", "\xc3(");
  bad_unit->set_description("Age of the oldest item.");
  auto* p2 = bad_unit->mutable_gauge()->add_data_points();
  p2->set_time_unix_nano(kT);
  p2->set_as_double(7);
  auto* good = AddMetric(rm, "queue.capacity", "");
  good->set_description("Capacity.");
  auto* p3 = good->mutable_gauge()->add_data_points();
  p3->set_time_unix_nano(kT);
  p3->set_as_double(10);
  ExportMetricsServiceResponse resp;
  ASSERT_TRUE(rx.Export(req, &resp).ok());
  EXPECT_EQ(resp.partial_success().rejected_data_points(), 0);
  EXPECT_TRUE(metadata.Get("queue_depth").empty());
  EXPECT_TRUE(metadata.Get("queue_age").empty());
  auto c = metadata.Get("queue_capacity");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].second.help, "Capacity.");
  std::vector<std::string> names;
  for (const auto& r : store_.samples()) {
    names.emplace_back(r.labels.Get("__name__"));
  }
  EXPECT_THAT(names,
              ::testing::IsSupersetOf({"queue_depth", "queue_capacity"}));
  EXPECT_EQ(names.size(), 4u) << "target_info and the three gauges";
  EXPECT_EQ(store_.Series(L({{"__name__", "queue_depth"}}))[0].v, 4);
}

}  // namespace
}  // namespace pantau::metrics::ingest
