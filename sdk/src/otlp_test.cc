// Exports spans, logs and metrics through a fake transport, decodes what
// was sent with the OTLP protobuf schema and checks every field; and the
// retry rules of the OTLP specification.
#include <deque>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "pantau/sdk/otlp_exporter.h"
#include "pantau/sdk/semconv.h"
#include "pantau/sdk/span_processor.h"
#include "pantau/sdk/trace.h"

namespace pantau::sdk {
namespace {

namespace otlp = ::opentelemetry::proto;
using ::testing::ElementsAre;

// Records requests; answers from a script (default: 200 OK).
class FakeTransport : public OtlpTransport {
 public:
  OtlpResponse Send(const OtlpRequest& request) override {
    absl::MutexLock lock(&mu_);
    requests_.push_back(request);
    if (script_.empty()) return {OtlpResponse::Outcome::kOk, {}, 200};
    OtlpResponse r = script_.front();
    script_.pop_front();
    return r;
  }
  void Script(OtlpResponse r) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(r));
  }
  std::vector<OtlpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  absl::Mutex mu_;
  std::vector<OtlpRequest> requests_;
  std::deque<OtlpResponse> script_;
};

std::string Bytes(std::string_view hex_id) {
  std::string out;
  for (size_t i = 0; i < hex_id.size(); i += 2) {
    out.push_back(static_cast<char>(
        std::stoi(std::string(hex_id.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

const otlp::common::v1::AnyValue* Attr(
    const google::protobuf::RepeatedPtrField<otlp::common::v1::KeyValue>& kvs,
    std::string_view key) {
  for (const auto& kv : kvs) {
    if (kv.key() == key) return &kv.value();
  }
  return nullptr;
}

TEST(OtlpExport, SpansDecodeWithEveryField) {
  auto transport = std::make_shared<FakeTransport>();
  auto exporter = std::make_shared<OtlpSpanExporter>(
      OtlpExporterOptions{.transport = transport});
  base::FakeClock clock(absl::FromUnixSeconds(1700000000));
  TracerProviderOptions o;
  o.resource = Resource({{semconv::kServiceName, std::string("shop")},
                         {semconv::kServiceVersion, std::string("1.2.3")},
                         {semconv::kDeploymentEnvironment, std::string("prod")},
                         {semconv::kHostName, std::string("h1")}});
  o.processors.push_back(std::make_shared<BatchSpanProcessor>(exporter));
  o.clock = &clock;
  TracerProvider provider(std::move(o));

  SpanContext parent;
  parent.trace_id = *TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  parent.span_id = *SpanId::FromHex("b7ad6b7169203331");
  parent.trace_flags = kTraceFlagSampled;
  parent.trace_state = "congo=t61rcWkgMzE";
  parent.is_remote = true;
  SpanContext link;
  link.trace_id = *TraceId::FromHex("11111111111111111111111111111111");
  link.span_id = *SpanId::FromHex("2222222222222222");
  link.trace_flags = kTraceFlagSampled;
  link.trace_state = "a=b";
  SpanId span_id;
  {
    Span span = provider.GetTracer("checkout", "0.9")
                    .StartSpan("POST /orders", {.kind = SpanKind::kServer,
                                                .parent = &parent,
                                                .links = {{link, {}}}});
    span_id = span.context().span_id;
    span.SetAttribute(semconv::kHttpRequestMethod, "POST");
    span.SetAttribute(semconv::kHttpResponseStatusCode, 503);
    span.SetAttribute("retry.ratio", 0.25);
    span.SetAttribute("cache.hit", false);
    span.SetAttribute("tags", std::vector<std::string>{"a", "b"});
    clock.Advance(absl::Milliseconds(3));
    span.AddEvent("queued", {{"depth", int64_t{4}}});
    span.SetStatus(StatusCode::kError, "backend down");
    clock.Advance(absl::Milliseconds(7));
  }
  ASSERT_TRUE(provider.ForceFlush().ok());

  auto reqs = transport->requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].signal, OtlpSignal::kTraces);
  otlp::collector::trace::v1::ExportTraceServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(reqs[0].body));
  ASSERT_EQ(req.resource_spans_size(), 1);
  const auto& rs = req.resource_spans(0);
  const auto& rattrs = rs.resource().attributes();
  ASSERT_EQ(rattrs.size(), 4);
  EXPECT_EQ(Attr(rattrs, "service.name")->string_value(), "shop");
  EXPECT_EQ(Attr(rattrs, "service.version")->string_value(), "1.2.3");
  EXPECT_EQ(Attr(rattrs, "deployment.environment")->string_value(), "prod");
  EXPECT_EQ(Attr(rattrs, "host.name")->string_value(), "h1");
  ASSERT_EQ(rs.scope_spans_size(), 1);
  EXPECT_EQ(rs.scope_spans(0).scope().name(), "checkout");
  EXPECT_EQ(rs.scope_spans(0).scope().version(), "0.9");
  ASSERT_EQ(rs.scope_spans(0).spans_size(), 1);
  const auto& s = rs.scope_spans(0).spans(0);
  EXPECT_EQ(s.trace_id(), Bytes("0af7651916cd43dd8448eb211c80319c"));
  EXPECT_EQ(s.span_id(), Bytes(span_id.ToHex()));
  EXPECT_EQ(s.parent_span_id(), Bytes("b7ad6b7169203331"));
  EXPECT_EQ(s.trace_state(), "congo=t61rcWkgMzE");
  EXPECT_EQ(s.flags(), 0x301u);  // sampled, remote parent known and true
  EXPECT_EQ(s.name(), "POST /orders");
  EXPECT_EQ(s.kind(), otlp::trace::v1::Span::SPAN_KIND_SERVER);
  EXPECT_EQ(s.start_time_unix_nano(), 1700000000000000000u);
  EXPECT_EQ(s.end_time_unix_nano(), 1700000000010000000u);
  ASSERT_EQ(s.attributes_size(), 5);
  EXPECT_EQ(Attr(s.attributes(), "http.request.method")->string_value(),
            "POST");
  EXPECT_EQ(Attr(s.attributes(), "http.response.status_code")->int_value(),
            503);
  EXPECT_EQ(Attr(s.attributes(), "retry.ratio")->double_value(), 0.25);
  EXPECT_TRUE(Attr(s.attributes(), "cache.hit")->has_bool_value());
  EXPECT_FALSE(Attr(s.attributes(), "cache.hit")->bool_value());
  const auto& tags = Attr(s.attributes(), "tags")->array_value();
  ASSERT_EQ(tags.values_size(), 2);
  EXPECT_EQ(tags.values(1).string_value(), "b");
  EXPECT_EQ(s.dropped_attributes_count(), 0u);
  ASSERT_EQ(s.events_size(), 1);
  EXPECT_EQ(s.events(0).name(), "queued");
  EXPECT_EQ(s.events(0).time_unix_nano(), 1700000000003000000u);
  EXPECT_EQ(Attr(s.events(0).attributes(), "depth")->int_value(), 4);
  EXPECT_EQ(s.dropped_events_count(), 0u);
  ASSERT_EQ(s.links_size(), 1);
  EXPECT_EQ(s.links(0).trace_id(), Bytes("11111111111111111111111111111111"));
  EXPECT_EQ(s.links(0).span_id(), Bytes("2222222222222222"));
  EXPECT_EQ(s.links(0).trace_state(), "a=b");
  EXPECT_EQ(s.links(0).flags(), 0x101u);
  EXPECT_EQ(s.dropped_links_count(), 0u);
  EXPECT_EQ(s.status().code(), otlp::trace::v1::Status::STATUS_CODE_ERROR);
  EXPECT_EQ(s.status().message(), "backend down");
}

TEST(OtlpExport, SpansGroupByResourceAndScope) {
  auto transport = std::make_shared<FakeTransport>();
  OtlpSpanExporter exporter({.transport = transport});
  Resource r1({{"service.name", std::string("a")}});
  Resource r2({{"service.name", std::string("b")}});
  InstrumentationScope s1{"x", ""}, s2{"y", ""};
  std::vector<std::unique_ptr<SpanData>> batch;
  for (auto [r, s] :
       {std::pair{&r1, &s1}, {&r2, &s1}, {&r1, &s2}, {&r1, &s1}}) {
    auto d = std::make_unique<SpanData>();
    d->resource = r;
    d->scope = s;
    batch.push_back(std::move(d));
  }
  ASSERT_TRUE(exporter.Export(batch).ok());
  otlp::collector::trace::v1::ExportTraceServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(transport->requests()[0].body));
  ASSERT_EQ(req.resource_spans_size(), 2);
  ASSERT_EQ(req.resource_spans(0).scope_spans_size(), 2);
  EXPECT_EQ(req.resource_spans(0).scope_spans(0).spans_size(), 2);
  EXPECT_EQ(req.resource_spans(1).scope_spans(0).spans_size(), 1);
}

TEST(OtlpExport, LogsDecodeWithEveryField) {
  auto transport = std::make_shared<FakeTransport>();
  auto exporter = std::make_shared<OtlpLogRecordExporter>(
      OtlpExporterOptions{.transport = transport});
  auto processor = std::make_shared<BatchLogRecordProcessor>(exporter);
  base::FakeClock clock(absl::FromUnixSeconds(1700000000));
  Logger log({.text_output = false,
              .processors = {processor},
              .resource = Resource({{"service.name", std::string("shop")}}),
              .scope_name = "shop.logs",
              .clock = &clock});
  SpanContext ctx;
  ctx.trace_id = *TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  ctx.span_id = *SpanId::FromHex("b7ad6b7169203331");
  ctx.trace_flags = kTraceFlagSampled;
  {
    Scope scope(ctx);
    log.Warn("slow query", {{"db.statement", "SELECT 1"}, {"ms", 1200}});
  }
  log.Error("no trace");
  ASSERT_TRUE(log.ForceFlush().ok());
  otlp::collector::logs::v1::ExportLogsServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(transport->requests().at(0).body));
  ASSERT_EQ(req.resource_logs_size(), 1);
  EXPECT_EQ(Attr(req.resource_logs(0).resource().attributes(), "service.name")
                ->string_value(),
            "shop");
  const auto& sl = req.resource_logs(0).scope_logs(0);
  EXPECT_EQ(sl.scope().name(), "shop.logs");
  ASSERT_EQ(sl.log_records_size(), 2);
  const auto& r = sl.log_records(0);
  EXPECT_EQ(r.time_unix_nano(), 1700000000000000000u);
  EXPECT_EQ(r.observed_time_unix_nano(), 1700000000000000000u);
  EXPECT_EQ(r.severity_number(), otlp::logs::v1::SEVERITY_NUMBER_WARN);
  EXPECT_EQ(r.severity_text(), "warn");
  EXPECT_EQ(r.body().string_value(), "slow query");
  ASSERT_EQ(r.attributes_size(), 2);
  EXPECT_EQ(Attr(r.attributes(), "db.statement")->string_value(), "SELECT 1");
  EXPECT_EQ(Attr(r.attributes(), "ms")->int_value(), 1200);
  EXPECT_EQ(r.trace_id(), Bytes("0af7651916cd43dd8448eb211c80319c"));
  EXPECT_EQ(r.span_id(), Bytes("b7ad6b7169203331"));
  EXPECT_EQ(r.flags(), 1u);
  const auto& r2 = sl.log_records(1);
  EXPECT_EQ(r2.severity_number(), otlp::logs::v1::SEVERITY_NUMBER_ERROR);
  EXPECT_TRUE(r2.trace_id().empty());
  EXPECT_TRUE(r2.span_id().empty());
}

TEST(OtlpExport, MetricsDecodeWithEveryField) {
  auto transport = std::make_shared<FakeTransport>();
  OtlpMetricExporter exporter({.transport = transport});
  Registry reg;
  reg.CounterFamily({.name = "http_requests_total",
                     .help = "Requests.",
                     .label_names = {"code", "empty"},
                     .unit = "1"})
      .WithLabels({"200", ""})
      .Add(3);
  reg.GetUpDownCounter("inflight", "In flight.").Add(-2);
  reg.GetGauge("temp_celsius", "Temp.", "Cel").Set(21.5);
  Histogram& h = reg.GetHistogram("lat_seconds", "Latency.", {0.1, 1}, "s");
  h.Observe(0.05);
  SpanContext ctx;
  ctx.trace_id = *TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  ctx.span_id = *SpanId::FromHex("b7ad6b7169203331");
  h.ObserveWithExemplar(5, ctx);
  Resource res({{"service.name", std::string("shop")}});
  ASSERT_TRUE(exporter.Export(reg.Collect(), res, 1700000000000000000).ok());

  otlp::collector::metrics::v1::ExportMetricsServiceRequest req;
  ASSERT_TRUE(req.ParseFromString(transport->requests().at(0).body));
  EXPECT_EQ(transport->requests()[0].signal, OtlpSignal::kMetrics);
  ASSERT_EQ(req.resource_metrics_size(), 1);
  EXPECT_EQ(
      Attr(req.resource_metrics(0).resource().attributes(), "service.name")
          ->string_value(),
      "shop");
  const auto& sm = req.resource_metrics(0).scope_metrics(0);
  EXPECT_EQ(sm.scope().name(), "pantau.sdk");
  ASSERT_EQ(sm.metrics_size(), 4);  // sorted by name
  const auto& counter = sm.metrics(0);
  EXPECT_EQ(counter.name(), "http_requests_total");
  EXPECT_EQ(counter.description(), "Requests.");
  EXPECT_EQ(counter.unit(), "1");
  ASSERT_TRUE(counter.has_sum());
  EXPECT_TRUE(counter.sum().is_monotonic());
  EXPECT_EQ(counter.sum().aggregation_temporality(),
            otlp::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  const auto& cp = counter.sum().data_points(0);
  EXPECT_EQ(cp.as_double(), 3);
  EXPECT_EQ(cp.time_unix_nano(), 1700000000000000000u);
  EXPECT_GT(cp.start_time_unix_nano(), 0u);
  ASSERT_EQ(cp.attributes_size(), 1);  // the empty label is left out
  EXPECT_EQ(Attr(cp.attributes(), "code")->string_value(), "200");

  const auto& updown = sm.metrics(1);
  EXPECT_EQ(updown.name(), "inflight");
  EXPECT_FALSE(updown.sum().is_monotonic());
  EXPECT_EQ(updown.sum().data_points(0).as_double(), -2);

  const auto& hist = sm.metrics(2);
  EXPECT_EQ(hist.name(), "lat_seconds");
  EXPECT_EQ(hist.unit(), "s");
  ASSERT_TRUE(hist.has_histogram());
  EXPECT_EQ(hist.histogram().aggregation_temporality(),
            otlp::metrics::v1::AGGREGATION_TEMPORALITY_CUMULATIVE);
  const auto& hp = hist.histogram().data_points(0);
  EXPECT_EQ(hp.count(), 2u);
  EXPECT_EQ(hp.sum(), 5.05);
  EXPECT_THAT(hp.bucket_counts(), ElementsAre(1, 0, 1));
  EXPECT_THAT(hp.explicit_bounds(), ElementsAre(0.1, 1));
  ASSERT_EQ(hp.exemplars_size(), 1);
  EXPECT_EQ(hp.exemplars(0).as_double(), 5);
  EXPECT_EQ(hp.exemplars(0).trace_id(),
            Bytes("0af7651916cd43dd8448eb211c80319c"));
  EXPECT_EQ(hp.exemplars(0).span_id(), Bytes("b7ad6b7169203331"));
  EXPECT_GT(hp.exemplars(0).time_unix_nano(), 0u);

  const auto& gauge = sm.metrics(3);
  EXPECT_EQ(gauge.name(), "temp_celsius");
  EXPECT_EQ(gauge.unit(), "Cel");
  ASSERT_TRUE(gauge.has_gauge());
  EXPECT_EQ(gauge.gauge().data_points(0).as_double(), 21.5);
}

TEST(OtlpExport, PartialSuccessIsCountedNotRetried) {
  auto transport = std::make_shared<FakeTransport>();
  otlp::collector::trace::v1::ExportTraceServiceResponse resp;
  resp.mutable_partial_success()->set_rejected_spans(2);
  resp.mutable_partial_success()->set_error_message("too old");
  transport->Script(
      {OtlpResponse::Outcome::kOk, {}, 200, "", resp.SerializeAsString()});
  OtlpSpanExporter exporter({.transport = transport});
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::make_unique<SpanData>());
  EXPECT_TRUE(exporter.Export(batch).ok());
  EXPECT_EQ(exporter.rejected(), 2u);
  EXPECT_EQ(transport->requests().size(), 1u);
}

TEST(OtlpExport, PeriodicReaderExportsOnShutdown) {
  auto transport = std::make_shared<FakeTransport>();
  auto exporter = std::make_shared<OtlpMetricExporter>(
      OtlpExporterOptions{.transport = transport});
  Registry reg;
  reg.GetCounter("x_total", "X.").Inc();
  {
    PeriodicMetricReader reader(reg, exporter, Resource(), absl::Hours(1));
    ASSERT_TRUE(reader.ForceFlush().ok());
  }
  EXPECT_EQ(transport->requests().size(), 2u);
}

// --- Retry behaviour -------------------------------------------------------

struct Sleeps {
  std::vector<absl::Duration> waits;
  RetryOptions Options(int attempts = 5) {
    RetryOptions r;
    r.max_attempts = attempts;
    r.jitter = false;
    r.sleep = [this](absl::Duration d) { waits.push_back(d); };
    return r;
  }
};

OtlpResponse Retryable(int status,
                       std::optional<absl::Duration> after = std::nullopt) {
  return {OtlpResponse::Outcome::kRetryable, after, status, "busy"};
}

TEST(Retry, ExponentialBackoffThenSuccess) {
  FakeTransport t;
  t.Script(Retryable(503));
  t.Script(Retryable(502));
  t.Script(Retryable(504));
  Sleeps s;
  auto r = SendWithRetry(t, {}, s.Options());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(t.requests().size(), 4u);
  EXPECT_THAT(s.waits, ElementsAre(absl::Seconds(1), absl::Seconds(2),
                                   absl::Seconds(4)));
}

TEST(Retry, HonoursRetryAfter) {
  FakeTransport t;
  t.Script(Retryable(429, absl::Seconds(7)));
  Sleeps s;
  ASSERT_TRUE(SendWithRetry(t, {}, s.Options()).ok());
  EXPECT_THAT(s.waits, ElementsAre(absl::Seconds(7)));
}

TEST(Retry, GivesUpWhenRetryAfterIsTooLong) {
  FakeTransport t;
  t.Script(Retryable(503, absl::Hours(1)));
  Sleeps s;
  auto r = SendWithRetry(t, {}, s.Options());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(s.waits.empty());
}

TEST(Retry, StopsAfterMaxAttempts) {
  FakeTransport t;
  for (int i = 0; i < 10; ++i) t.Script(Retryable(503));
  Sleeps s;
  auto r = SendWithRetry(t, {}, s.Options(3));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(t.requests().size(), 3u);
  EXPECT_EQ(s.waits.size(), 2u);
}

TEST(Retry, PermanentFailureIsNotRetried) {
  FakeTransport t;
  t.Script({OtlpResponse::Outcome::kFailed, {}, 400, "bad span"});
  Sleeps s;
  auto r = SendWithRetry(t, {}, s.Options());
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()),
              ::testing::HasSubstr("bad span"));
  EXPECT_EQ(t.requests().size(), 1u);
}

TEST(Retry, BackoffIsCapped) {
  FakeTransport t;
  for (int i = 0; i < 6; ++i) t.Script(Retryable(503));
  Sleeps s;
  RetryOptions o = s.Options(7);
  o.max_backoff = absl::Seconds(5);
  ASSERT_TRUE(SendWithRetry(t, {}, o).ok());
  EXPECT_THAT(s.waits, ElementsAre(absl::Seconds(1), absl::Seconds(2),
                                   absl::Seconds(4), absl::Seconds(5),
                                   absl::Seconds(5), absl::Seconds(5)));
}

TEST(Retry, JitterStaysWithinHalfToFull) {
  FakeTransport t;
  for (int i = 0; i < 3; ++i) t.Script(Retryable(503));
  Sleeps s;
  RetryOptions o = s.Options();
  o.jitter = true;
  ASSERT_TRUE(SendWithRetry(t, {}, o).ok());
  ASSERT_EQ(s.waits.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    absl::Duration full = absl::Seconds(1 << i);
    EXPECT_GE(s.waits[i], full / 2);
    EXPECT_LE(s.waits[i], full);
  }
}

TEST(Retry, ClassifiesHttpStatus) {
  using O = OtlpResponse::Outcome;
  EXPECT_EQ(ClassifyHttpStatus(200), O::kOk);
  EXPECT_EQ(ClassifyHttpStatus(204), O::kOk);
  for (int s : {429, 502, 503, 504})
    EXPECT_EQ(ClassifyHttpStatus(s), O::kRetryable);
  for (int s : {400, 401, 404, 413, 500})
    EXPECT_EQ(ClassifyHttpStatus(s), O::kFailed);
}

TEST(Retry, ParsesRetryAfter) {
  absl::Time now = absl::FromUnixSeconds(1445412470);  // 07:27:50 GMT
  EXPECT_EQ(ParseRetryAfter("120", now), absl::Seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 0 ", now), absl::ZeroDuration());
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:28:00 GMT", now),
            absl::Seconds(10));
  EXPECT_EQ(ParseRetryAfter("Wed, 21 Oct 2015 07:00:00 GMT", now),
            absl::ZeroDuration());
  EXPECT_FALSE(ParseRetryAfter("", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("-5", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("12abc", now).has_value());
  EXPECT_FALSE(ParseRetryAfter("tomorrow", now).has_value());
}

}  // namespace
}  // namespace pantau::sdk

namespace pantau::sdk {
namespace {

class AlwaysBusy : public OtlpTransport {
 public:
  OtlpResponse Send(const OtlpRequest&) override {
    return {OtlpResponse::Outcome::kRetryable, {}, 503, "busy"};
  }
};

TEST(OtlpExport, ShutdownEndsRetryWaitsOfUnreachableEndpoint) {
  OtlpExporterOptions o{.transport = std::make_shared<AlwaysBusy>()};
  o.retry.initial_backoff = absl::Hours(1);  // would hang without cancel
  auto exporter = std::make_shared<OtlpSpanExporter>(o);
  BatchSpanProcessor p(exporter, {.schedule_delay = absl::Hours(1)});
  p.OnEnd(std::make_unique<SpanData>());
  absl::Status s = p.Shutdown(absl::Milliseconds(50));
  EXPECT_EQ(s.code(), absl::StatusCode::kDeadlineExceeded);
  // Later exports fail at once.
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::make_unique<SpanData>());
  EXPECT_EQ(exporter->Export(batch).code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace pantau::sdk
