// The SDK's OTLP metrics export, received by pantau's own OTLP receiver
// (metrics/ingest) in process and stored in a recording Appendable: the
// names, labels, values and exemplars a user queries must survive the trip.
#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/ingest/ingest_counters.h"
#include "metrics/ingest/otlp_metrics.h"
#include "metrics/scrape/fake_appendable.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/otlp_exporter.h"

namespace pantau::sdk {
namespace {

// Hands each request body to the receiver as its HTTP handler would.
class ReceiverTransport : public OtlpTransport {
 public:
  explicit ReceiverTransport(metrics::ingest::OtlpMetricsReceiver* rx)
      : rx_(rx) {}
  OtlpResponse Send(const OtlpRequest& r) override {
    auto res = rx_->HandleHttp(r.body, "application/x-protobuf", "");
    OtlpResponse out;
    out.status = res.http_status;
    out.outcome = ClassifyHttpStatus(res.http_status);
    out.body = res.body;
    out.message = res.body;
    return out;
  }

 private:
  metrics::ingest::OtlpMetricsReceiver* rx_;
};

struct Pipeline {
  metrics::testing::FakeAppendable store;
  metrics::ingest::IngestCounters counters;
  metrics::ingest::OtlpMetricsReceiver rx{&store, &counters};
  OtlpMetricExporter exporter{
      {.transport = std::make_shared<ReceiverTransport>(&rx)}};
};

double Last(const metrics::testing::FakeAppendable& store,
            const std::string& labels_text) {
  double v = NAN;
  for (const auto& r : store.samples()) {
    if (r.labels.ToString() == labels_text) v = r.v;
  }
  return v;
}

std::string AllSeries(const metrics::testing::FakeAppendable& store) {
  std::string out;
  for (const auto& r : store.samples()) out += r.labels.ToString() + "\n";
  return out;
}

TEST(SdkToPantau, CountersGaugesAndHistogramsArrive) {
  Pipeline p;
  Registry reg;
  reg.CounterFamily({.name = "http_requests_total",
                     .help = "Requests.",
                     .label_names = {"code"}})
      .WithLabels({"200"})
      .Add(3);
  reg.GetGauge("queue_depth", "Depth.").Set(7);
  Histogram& h = reg.GetHistogram("lat_seconds", "Latency.", {0.1, 1}, "s");
  h.Observe(0.05);
  SpanContext ctx;
  ctx.trace_id = *TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  ctx.span_id = *SpanId::FromHex("b7ad6b7169203331");
  h.ObserveWithExemplar(0.5, ctx);
  Resource res({{"service.name", std::string("shop")},
                {"service.instance.id", std::string("i-1")}});
  ASSERT_TRUE(p.exporter.Export(reg.Collect(), res).ok());
  EXPECT_EQ(p.exporter.rejected(), 0u);

  std::string all = AllSeries(p.store);
  EXPECT_EQ(Last(p.store,
                 "{__name__=\"http_requests_total\", code=\"200\", "
                 "instance=\"i-1\", job=\"shop\"}"),
            3)
      << all;
  EXPECT_EQ(Last(p.store,
                 "{__name__=\"queue_depth\", instance=\"i-1\", job=\"shop\"}"),
            7)
      << all;
  EXPECT_EQ(Last(p.store,
                 "{__name__=\"lat_seconds_bucket\", "
                 "instance=\"i-1\", job=\"shop\", le=\"0.1\"}"),
            1)
      << all;
  EXPECT_EQ(Last(p.store,
                 "{__name__=\"lat_seconds_bucket\", "
                 "instance=\"i-1\", job=\"shop\", le=\"+Inf\"}"),
            2)
      << all;
  EXPECT_EQ(Last(p.store,
                 "{__name__=\"lat_seconds_count\", "
                 "instance=\"i-1\", job=\"shop\"}"),
            2)
      << all;
  EXPECT_DOUBLE_EQ(Last(p.store,
                        "{__name__=\"lat_seconds_sum\", "
                        "instance=\"i-1\", job=\"shop\"}"),
                   0.55)
      << all;
  bool found = false;
  for (const auto& e : p.store.exemplars()) {
    if (e.exemplar.labels.Get("trace_id") ==
        "0af7651916cd43dd8448eb211c80319c") {
      found = true;
      EXPECT_EQ(e.exemplar.value, 0.5);
      EXPECT_EQ(e.exemplar.labels.Get("span_id"), "b7ad6b7169203331");
    }
  }
  EXPECT_TRUE(found) << "exemplar with the trace id not stored";
}

}  // namespace
}  // namespace pantau::sdk
