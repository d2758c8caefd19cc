// OTLP/HTTP against a real receiver: a pantau HTTP server on 127.0.0.1:0
// that decodes requests with the OTLP schema. Also the traced HTTP client.
#include "pantau/sdk/otlp_http.h"

#include <deque>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/router.h"
#include "opentelemetry/proto/collector/logs/v1/logs_service.pb.h"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb.h"
#include "pantau/sdk/otlp_exporter.h"
#include "pantau/sdk/span_processor.h"
#include "pantau/sdk/trace.h"
#include "pantau/sdk/traced_http_client.h"

namespace pantau::sdk {
namespace {

namespace otlp = ::opentelemetry::proto;

// Collects OTLP requests; answers from a script, then 200.
class Receiver {
 public:
  Receiver() {
    for (std::string_view path : {"/v1/traces", "/v1/metrics", "/v1/logs"}) {
      EXPECT_TRUE(
          router_
              ->Handle("POST", path,
                       [this](const net::HttpRequest& r, net::RequestContext&) {
                         return Handle(r);
                       })
              .ok());
    }
    EXPECT_TRUE(
        router_
            ->Handle("GET", "/echo",
                     [](const net::HttpRequest& r, net::RequestContext&) {
                       return net::HttpResponse::Text(
                           200, std::string(r.headers.Get("traceparent")));
                     })
            .ok());
    net::HttpServer::Options o;
    o.listen_address = "127.0.0.1:0";
    o.query_threads = 1;
    o.ingest_threads = 1;
    server_ = std::make_unique<net::HttpServer>(o, router_);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Receiver() { server_->Shutdown(absl::Seconds(5)); }

  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(server_->port());
  }
  void Script(net::HttpResponse r) {
    absl::MutexLock lock(&mu_);
    script_.push_back(std::move(r));
  }
  std::vector<net::HttpRequest> requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  net::HttpResponse Handle(const net::HttpRequest& r) {
    absl::MutexLock lock(&mu_);
    requests_.push_back(r);
    if (!script_.empty()) {
      net::HttpResponse resp = script_.front();
      script_.pop_front();
      return resp;
    }
    net::HttpResponse ok;
    ok.headers.Set("Content-Type", "application/x-protobuf");
    return ok;
  }

  std::shared_ptr<net::Router> router_ = std::make_shared<net::Router>();
  std::unique_ptr<net::HttpServer> server_;
  absl::Mutex mu_;
  std::vector<net::HttpRequest> requests_;
  std::deque<net::HttpResponse> script_;
};

TEST(OtlpHttp, ExportsGzippedProtobufToEachPath) {
  Receiver rx;
  auto transport = MakeOtlpHttpTransport(
      {.endpoint = rx.url() + "/", .headers = {{"Authorization", "Bearer x"}}});
  OtlpExporterOptions eo{.transport = transport};

  OtlpSpanExporter spans(eo);
  std::vector<std::unique_ptr<SpanData>> batch;
  auto d = std::make_unique<SpanData>();
  d->name = "op";
  d->context.trace_id = TraceId::Random();
  d->context.span_id = SpanId::Random();
  batch.push_back(std::move(d));
  ASSERT_TRUE(spans.Export(batch).ok());

  OtlpMetricExporter metrics(eo);
  Registry reg;
  reg.GetCounter("x_total", "X.").Inc();
  ASSERT_TRUE(metrics.Export(reg.Collect(), Resource()).ok());

  OtlpLogRecordExporter logs(eo);
  std::vector<std::unique_ptr<LogRecord>> records;
  records.push_back(std::make_unique<LogRecord>());
  records.back()->body = "hello";
  ASSERT_TRUE(logs.Export(records).ok());

  auto reqs = rx.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].path, "/v1/traces");
  EXPECT_EQ(reqs[1].path, "/v1/metrics");
  EXPECT_EQ(reqs[2].path, "/v1/logs");
  for (const auto& r : reqs) {
    EXPECT_EQ(r.headers.Get("Content-Type"), "application/x-protobuf");
    EXPECT_EQ(r.headers.Get("Authorization"), "Bearer x");
  }
  // The server undid the gzip encoding; the body is the protobuf.
  otlp::collector::trace::v1::ExportTraceServiceRequest t;
  ASSERT_TRUE(t.ParseFromString(reqs[0].body));
  EXPECT_EQ(t.resource_spans(0).scope_spans(0).spans(0).name(), "op");
  otlp::collector::metrics::v1::ExportMetricsServiceRequest m;
  ASSERT_TRUE(m.ParseFromString(reqs[1].body));
  EXPECT_EQ(m.resource_metrics(0).scope_metrics(0).metrics(0).name(),
            "x_total");
  otlp::collector::logs::v1::ExportLogsServiceRequest l;
  ASSERT_TRUE(l.ParseFromString(reqs[2].body));
  EXPECT_EQ(
      l.resource_logs(0).scope_logs(0).log_records(0).body().string_value(),
      "hello");
}

TEST(OtlpHttp, RetriesThrottlingWithRetryAfterThenFailsOnBadRequest) {
  Receiver rx;
  net::HttpResponse busy = net::HttpResponse::Text(429, "slow down");
  busy.headers.Set("Retry-After", "3");
  rx.Script(busy);
  rx.Script(net::HttpResponse::Text(503, "unavailable"));
  std::vector<absl::Duration> waits;
  OtlpExporterOptions eo{.transport = MakeOtlpHttpTransport(
                             {.endpoint = rx.url(), .gzip = false})};
  eo.retry.jitter = false;
  eo.retry.sleep = [&](absl::Duration d) { waits.push_back(d); };
  OtlpMetricExporter exporter(eo);
  Registry reg;
  reg.GetGauge("g", "G.").Set(1);
  ASSERT_TRUE(exporter.Export(reg.Collect(), Resource()).ok());
  EXPECT_EQ(rx.requests().size(), 3u);
  EXPECT_THAT(waits,
              ::testing::ElementsAre(absl::Seconds(3), absl::Seconds(2)));

  rx.Script(net::HttpResponse::Text(400, "bad data"));
  absl::Status s = exporter.Export(reg.Collect(), Resource());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("bad data"));
  EXPECT_EQ(rx.requests().size(), 4u);
}

TEST(OtlpHttp, UnreachableEndpointIsRetriedThenUnavailable) {
  // Port 1 on loopback refuses connections.
  OtlpExporterOptions eo{
      .transport = MakeOtlpHttpTransport({.endpoint = "http://127.0.0.1:1"})};
  eo.retry.max_attempts = 2;
  int sleeps = 0;
  eo.retry.sleep = [&](absl::Duration) { ++sleeps; };
  OtlpSpanExporter exporter(eo);
  std::vector<std::unique_ptr<SpanData>> batch;
  batch.push_back(std::make_unique<SpanData>());
  EXPECT_EQ(exporter.Export(batch).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(sleeps, 1);
  EXPECT_EQ(exporter.failed_requests(), 1u);
}

TEST(TracedHttpClient, InjectsTraceparentAndRecordsClientSpan) {
  Receiver rx;
  auto exporter = std::make_shared<InMemorySpanExporter>();
  TracerProviderOptions o;
  o.processors.push_back(std::make_shared<SimpleSpanProcessor>(exporter));
  TracerProvider provider(std::move(o));
  Registry reg;
  net::HttpClient http;
  TracedHttpClient client(&http,
                          {.tracer_provider = &provider, .registry = &reg});
  Span parent = provider.GetTracer("t").StartSpan("parent");
  net::HttpClientRequest req;
  req.url = rx.url() + "/echo";
  absl::StatusOr<net::HttpClientResponse> resp;
  {
    Scope scope(parent);
    resp = client.Do(req);
  }
  ASSERT_TRUE(resp.ok()) << resp.status();
  auto spans = exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& s = spans[0];
  EXPECT_EQ(s.kind, SpanKind::kClient);
  EXPECT_EQ(s.name, "GET");
  EXPECT_EQ(s.parent_span_id, parent.context().span_id);
  EXPECT_EQ(resp->body, "00-" + s.context.trace_id.ToHex() + "-" +
                            s.context.span_id.ToHex() + "-01");
  EXPECT_EQ(std::get<std::string>(*FindAttribute(s.attributes, "url.full")),
            req.url);
  EXPECT_EQ(
      std::get<std::string>(*FindAttribute(s.attributes, "server.address")),
      "127.0.0.1");
  EXPECT_EQ(std::get<int64_t>(*FindAttribute(s.attributes, "server.port")),
            std::stoi(rx.url().substr(rx.url().rfind(':') + 1)));
  EXPECT_EQ(std::get<int64_t>(
                *FindAttribute(s.attributes, "http.response.status_code")),
            200);
  auto fs = reg.Collect();
  ASSERT_EQ(fs.size(), 1u);
  EXPECT_EQ(fs[0].name, "http_client_request_duration_seconds");
  EXPECT_EQ(fs[0].points[0].count, 1u);
}

TEST(TracedHttpClient, TransportErrorMarksSpan) {
  auto exporter = std::make_shared<InMemorySpanExporter>();
  TracerProviderOptions o;
  o.processors.push_back(std::make_shared<SimpleSpanProcessor>(exporter));
  TracerProvider provider(std::move(o));
  Registry reg;
  net::HttpClient http;
  TracedHttpClient client(&http,
                          {.tracer_provider = &provider, .registry = &reg});
  net::HttpClientRequest req;
  req.url = "http://127.0.0.1:1/x";
  EXPECT_FALSE(client.Do(req).ok());
  auto spans = exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status_code, StatusCode::kError);
  EXPECT_EQ(
      std::get<std::string>(*FindAttribute(spans[0].attributes, "error.type")),
      "UNAVAILABLE");
}

}  // namespace
}  // namespace pantau::sdk
