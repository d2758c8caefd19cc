#include "pantau/sdk/metrics.h"

#include <cmath>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pantau::sdk {
namespace {

using ::testing::ElementsAre;

const FamilySnapshot* Find(const std::vector<FamilySnapshot>& fs,
                           std::string_view name) {
  for (const FamilySnapshot& f : fs) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

TEST(Counter, IncAndAddAccumulate) {
  Registry r;
  Counter& c = r.GetCounter("jobs_total", "Jobs.");
  c.Inc();
  c.Add(2);
  c.Add(0.5);
  EXPECT_DOUBLE_EQ(c.Value(), 3.5);
}

TEST(Counter, IgnoresNegativeAndNaN) {
  Registry r;
  Counter& c = r.GetCounter("jobs_total", "Jobs.");
  c.Add(5);
  c.Add(-1);
  c.Add(std::nan(""));
  EXPECT_DOUBLE_EQ(c.Value(), 5);
}

TEST(Counter, ExactUnderTwoThreads) {
  Registry r;
  Counter& c = r.GetCounter("jobs_total", "Jobs.");
  Gauge& g = r.GetGauge("level", "Level.");
  auto work = [&] {
    for (int i = 0; i < 100000; ++i) {
      c.Inc();
      c.Add(0.5);
      g.Add(1);
    }
  };
  std::thread a(work), b(work);
  a.join();
  b.join();
  EXPECT_DOUBLE_EQ(c.Value(), 300000);
  EXPECT_DOUBLE_EQ(g.Value(), 200000);
}

TEST(UpDownCounterAndGauge, MoveBothWays) {
  Registry r;
  UpDownCounter& u = r.GetUpDownCounter("inflight", "In flight.");
  u.Inc();
  u.Inc();
  u.Dec();
  EXPECT_DOUBLE_EQ(u.Value(), 1);
  Gauge& g = r.GetGauge("temp", "Temperature.");
  g.Set(21.5);
  g.Add(-1.5);
  EXPECT_DOUBLE_EQ(g.Value(), 20);
}

TEST(Family, SameLabelsGiveSameInstrument) {
  Registry r;
  auto& f = r.CounterFamily({.name = "req_total",
                             .help = "Requests.",
                             .label_names = {"method", "code"}});
  Counter& a = f.WithLabels({"GET", "200"});
  Counter& b = f.WithLabels({"GET", "200"});
  Counter& c = f.WithLabels({"POST", "200"});
  EXPECT_EQ(&a, &b);
  EXPECT_NE(&a, &c);
}

TEST(Family, ReRegisteringReturnsSameFamily) {
  Registry r;
  auto& f1 = r.CounterFamily(
      {.name = "req_total", .help = "Requests.", .label_names = {"code"}});
  auto& f2 = r.CounterFamily(
      {.name = "req_total", .help = "Requests.", .label_names = {"code"}});
  EXPECT_EQ(&f1, &f2);
  EXPECT_EQ(&r.GetCounter("x_total", "X."), &r.GetCounter("x_total", "X."));
}

TEST(FamilyDeathTest, ProgrammingErrorsCheckFail) {
  Registry r;
  EXPECT_DEATH(r.GetCounter("bad-name", "x"), "invalid metric name");
  EXPECT_DEATH(r.CounterFamily({.name = "a", .label_names = {"__x"}}),
               "invalid label name");
  EXPECT_DEATH(r.HistogramFamily({.name = "h", .label_names = {"le"}}),
               "reserved");
  EXPECT_DEATH(r.HistogramFamily({.name = "h"}, {1, 1}), "ascending");
  auto& f = r.CounterFamily({.name = "c_total", .label_names = {"a"}});
  EXPECT_DEATH(f.WithLabels({"1", "2"}), "label values");
  EXPECT_DEATH(r.GetGauge("c_total", "x"), "different type");
}

TEST(Names, Validation) {
  EXPECT_TRUE(IsValidMetricName("http_requests_total"));
  EXPECT_TRUE(IsValidMetricName("ns:rule:rate5m"));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("a.b"));
  EXPECT_TRUE(IsValidLabelName("code"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("9a"));
}

TEST(Histogram, BucketsAreUpperInclusive) {
  Registry r;
  Histogram& h = r.GetHistogram("lat_seconds", "Latency.", {0.1, 1, 10});
  h.Observe(0.1);  // le=0.1
  h.Observe(0.5);  // le=1
  h.Observe(1);    // le=1
  h.Observe(100);  // +Inf
  h.Observe(-3);   // le=0.1
  auto fs = r.Collect();
  const FamilySnapshot* f = Find(fs, "lat_seconds");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type, MetricType::kHistogram);
  EXPECT_THAT(f->bounds, ElementsAre(0.1, 1, 10));
  ASSERT_EQ(f->points.size(), 1u);
  EXPECT_THAT(f->points[0].bucket_counts, ElementsAre(2, 2, 0, 1));
  EXPECT_EQ(f->points[0].count, 5u);
  EXPECT_DOUBLE_EQ(f->points[0].sum, 98.6);
}

TEST(Histogram, TrailingInfBoundIsImplied) {
  Registry r;
  auto& f = r.HistogramFamily({.name = "h"}, {1, INFINITY});
  EXPECT_THAT(f.bounds(), ElementsAre(1));
  EXPECT_THAT(r.HistogramFamily({.name = "d"}).bounds(),
              ElementsAre(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10));
}

TEST(Histogram, ExemplarFromActiveSampledSpan) {
  Registry r;
  Histogram& h = r.GetHistogram("lat_seconds", "Latency.", {1});
  h.Observe(0.5);  // no active span: no exemplar
  SpanContext ctx;
  ctx.trace_id = *TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  ctx.span_id = *SpanId::FromHex("b7ad6b7169203331");
  ctx.trace_flags = 0;
  internal::tls_active_span_context = &ctx;
  h.Observe(0.6);  // unsampled: no exemplar
  ctx.trace_flags = kTraceFlagSampled;
  h.Observe(2);  // +Inf bucket gets one
  internal::tls_active_span_context = nullptr;
  PointSnapshot p;
  h.Snapshot(&p);
  ASSERT_EQ(p.exemplars.size(), 1u);
  EXPECT_EQ(p.exemplar_buckets[0], 1u);
  EXPECT_EQ(p.exemplars[0].value, 2);
  EXPECT_EQ(p.exemplars[0].trace_id, ctx.trace_id);
  EXPECT_EQ(p.exemplars[0].span_id, ctx.span_id);
  EXPECT_GT(p.exemplars[0].time_unix_nano, 0);
}

TEST(Buckets, Helpers) {
  EXPECT_THAT(ExponentialBuckets(1, 2, 4), ElementsAre(1, 2, 4, 8));
  EXPECT_THAT(LinearBuckets(0, 5, 3), ElementsAre(0, 5, 10));
}

TEST(Registry, CallbacksReadAtCollection) {
  Registry r;
  double depth = 3;
  r.AddCallbackGauge("queue_depth", "Depth.", [&] { return depth; });
  r.AddCallback(
      {.name = "pool_bytes", .help = "Bytes.", .label_names = {"pool"}},
      MetricType::kUpDownCounter, [](CallbackObserver& o) {
        o.Observe({"b"}, 2);
        o.Observe({"a"}, 1);
      });
  depth = 7;
  auto fs = r.Collect();
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[0].name, "pool_bytes");  // sorted by name
  ASSERT_EQ(fs[0].points.size(), 2u);
  EXPECT_THAT(fs[0].points[0].label_values, ElementsAre("a"));
  EXPECT_GT(fs[0].points[0].start_time_unix_nano, 0);
  EXPECT_EQ(fs[1].points[0].value, 7);
}

TEST(Registry, FamiliesWithoutPointsAreLeftOut) {
  Registry r;
  r.CounterFamily({.name = "unused_total", .label_names = {"x"}});
  EXPECT_TRUE(r.Collect().empty());
}

class FixedCollector : public Collector {
 public:
  void Collect(std::vector<FamilySnapshot>* out) const override {
    FamilySnapshot& f = out->emplace_back();
    f.name = "aaa";
    f.points.emplace_back().value = 1;
  }
};

TEST(Registry, CollectorsAreMergedInNameOrder) {
  Registry r;
  r.GetGauge("zzz", "Z.").Set(1);
  r.AddCollector(std::make_shared<FixedCollector>());
  auto fs = r.Collect();
  ASSERT_EQ(fs.size(), 2u);
  EXPECT_EQ(fs[0].name, "aaa");
  EXPECT_EQ(fs[1].name, "zzz");
}

}  // namespace
}  // namespace pantau::sdk
