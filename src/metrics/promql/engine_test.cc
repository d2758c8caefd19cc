#include "metrics/promql/engine.h"

#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/promql/testing/memory_queryable.h"

namespace pantau::metrics::promql {
namespace {

std::unique_ptr<testing::MemoryQueryable> MakeStore(int series, int samples) {
  auto store = std::make_unique<testing::MemoryQueryable>();
  for (int s = 0; s < series; ++s) {
    base::Labels l =
        base::Labels::Of({{"__name__", "m"}, {"i", std::to_string(s)}});
    for (int t = 0; t < samples; ++t) store->Add(l, t * 15000, t);
  }
  return store;
}

TEST(Engine, RangeQueryReturnsSortedMatrix) {
  auto store = MakeStore(3, 100);
  Engine engine(EngineOptions{});
  auto r = engine.RangeQuery(*store, "m * 2", 0, 600000, 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = r->value.matrix();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0].labels.Get("i"), "0");
  EXPECT_EQ(m[0].points.size(), 11u);
  EXPECT_EQ(m[0].points[2].v, 2 * 8);  // t=120s -> sample 8
}

TEST(Engine, TooManySamplesIsAnExecutionError) {
  auto store = MakeStore(10, 1000);
  EngineOptions o;
  o.max_samples = 100;
  Engine engine(o);
  auto r = engine.InstantQuery(*store, "sum_over_time(m[1h])", 3600000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorType(r.status()), "execution");
}

TEST(Engine, TooManySeriesIsAnError) {
  auto store = MakeStore(10, 2);
  EngineOptions o;
  o.max_series = 5;
  Engine engine(o);
  auto r = engine.InstantQuery(*store, "m", 15000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorType(r.status()), "execution");
}

TEST(Engine, CancelledQueryStops) {
  auto store = MakeStore(50, 200);
  Engine engine(EngineOptions{});
  QueryContext ctx;
  ctx.cancelled = [] { return true; };
  auto r = engine.RangeQuery(*store, "rate(m[5m])", 0, 3000000, 15000, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorType(r.status()), "canceled");
}

TEST(Engine, TimeoutIsReported) {
  auto store = MakeStore(200, 200);
  base::FakeClock clock;
  EngineOptions o;
  o.timeout = absl::Seconds(10);
  o.clock = &clock;
  Engine engine(o);
  // Time passes only while the query runs: each check costs 5 seconds.
  QueryContext ctx;
  ctx.cancelled = [&clock] {
    clock.Advance(absl::Seconds(5));
    return false;
  };
  auto r = engine.RangeQuery(*store, "rate(m[5m])", 0, 3000000, 15000, ctx);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorType(r.status()), "timeout");
  // Without the clock moving the same query finishes.
  ctx.cancelled = nullptr;
  EXPECT_TRUE(
      engine.RangeQuery(*store, "rate(m[5m])", 0, 3000000, 15000, ctx).ok());
}

TEST(Engine, BadQueriesAreBadData) {
  auto store = MakeStore(1, 2);
  Engine engine(EngineOptions{});
  auto r = engine.InstantQuery(*store, "sum(", 0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorType(r.status()), "bad_data");
  r = engine.RangeQuery(*store, "m[5m]", 0, 60000, 15000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorType(r.status()), "bad_data");
  r = engine.RangeQuery(*store, "m", 0, 60000, 0);
  EXPECT_EQ(ErrorType(r.status()), "bad_data");
  EXPECT_EQ(RangeQueryPoints(0, 60000, 15000), 5);
}

}  // namespace
}  // namespace pantau::metrics::promql

namespace pantau::metrics::promql {
namespace {

TEST(Engine, SubqueryWithAbsurdStepCountIsRefusedBeforeAllocating) {
  auto store = MakeStore(1, 10);
  EngineOptions o;
  o.max_samples = 1000000;
  Engine engine(o);
  auto r =
      engine.InstantQuery(*store, "max_over_time((1 + m)[1000d:1ms])", 100000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ErrorType(r.status()), "execution");
}

TEST(Engine, InstantRangeSelectorReturnsRawSamples) {
  auto store = MakeStore(1, 10);
  Engine engine(EngineOptions{});
  auto r = engine.InstantQuery(*store, "m[1m]", 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->value.type, ValueType::kMatrix);
  ASSERT_EQ(r->value.matrix().size(), 1u);
  EXPECT_EQ(r->value.matrix()[0].points.size(), 5u);  // 0,15,30,45,60 s
}

TEST(Engine, ScalarRangeQueryIsOneUnlabeledSeries) {
  auto store = MakeStore(1, 10);
  Engine engine(EngineOptions{});
  auto r = engine.RangeQuery(*store, "time()", 0, 120000, 60000);
  ASSERT_TRUE(r.ok()) << r.status();
  const Matrix& m = r->value.matrix();
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].labels.empty());
  ASSERT_EQ(m[0].points.size(), 3u);
  EXPECT_EQ(m[0].points[2].v, 120);
}

// Series are read and evaluated on several threads; a user must get the
// same answer, and the same limit errors, as from one thread.
TEST(Engine, ParallelEvaluationMatchesSingleThreaded) {
  auto store = MakeStore(64, 400);
  const char* queries[] = {"rate(m[5m])", "sum(irate(m[2m]))", "m",
                           "max_over_time(rate(m[5m])[30m:1m])"};
  for (const char* q : queries) {
    EngineOptions one;
    one.parallelism = 1;
    EngineOptions four;
    four.parallelism = 4;
    auto a = Engine(one).RangeQuery(*store, q, 0, 6000000, 30000);
    auto b = Engine(four).RangeQuery(*store, q, 0, 6000000, 30000);
    ASSERT_TRUE(a.ok() && b.ok()) << q;
    const Matrix& ma = a->value.matrix();
    const Matrix& mb = b->value.matrix();
    ASSERT_EQ(ma.size(), mb.size()) << q;
    for (size_t i = 0; i < ma.size(); ++i) {
      EXPECT_EQ(ma[i].labels, mb[i].labels) << q;
      ASSERT_EQ(ma[i].points.size(), mb[i].points.size()) << q;
      for (size_t j = 0; j < ma[i].points.size(); ++j) {
        EXPECT_EQ(ma[i].points[j].t, mb[i].points[j].t) << q;
        EXPECT_EQ(ma[i].points[j].v, mb[i].points[j].v) << q;
      }
    }
    // A sample limit in the middle of the series fails both alike.
    one.max_samples = four.max_samples = 3000;
    a = Engine(one).RangeQuery(*store, q, 0, 6000000, 30000);
    b = Engine(four).RangeQuery(*store, q, 0, 6000000, 30000);
    EXPECT_FALSE(a.ok()) << q;
    EXPECT_EQ(a.status(), b.status()) << q;
  }
}

TEST(Engine, MaxMinOverTimeAsAScanOfEveryWindow) {
  // Irregular samples with NaN runs, 0 and -0, and ties: each step's
  // result is what scanning its window gives (NaN only when the window has
  // nothing else; of equal values the earliest, so -0 before 0 stays -0).
  testing::MemoryQueryable store;
  base::Labels l = base::Labels::Of({{"__name__", "g"}});
  std::vector<Point> pts;
  uint64_t x = 12345;
  int64_t t = 0;
  for (int k = 0; k < 600; ++k) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    t += 5000 + static_cast<int64_t>((x >> 40) % 40000);
    double v;
    switch ((x >> 20) % 8) {
      case 0:
        v = std::nan("");
        break;
      case 1:
        v = 0.0;
        break;
      case 2:
        v = -0.0;
        break;
      default:
        v = static_cast<double>((x >> 33) % 7) - 3;
    }
    if (k >= 200 && k < 230) v = std::nan("");  // windows of only NaN
    pts.push_back(Point{t, v});
    store.Add(l, t, v);
  }
  Engine engine(EngineOptions{});
  for (int sign : {1, -1}) {
    std::string q = sign > 0 ? "max_over_time(g[2m])" : "min_over_time(g[2m])";
    auto r = engine.RangeQuery(store, q, 0, t, 10000);
    ASSERT_TRUE(r.ok()) << r.status();
    const Matrix& m = r->value.matrix();
    ASSERT_EQ(m.size(), 1u);
    size_t j = 0;
    int nan_steps = 0;
    for (int64_t ts = 0; ts <= t; ts += 10000) {
      bool any = false;
      double want = 0;
      for (const Point& p : pts) {
        if (p.t < ts - 120000 || p.t > ts) continue;
        if (!any) {
          want = p.v;
          any = true;
        } else if ((sign > 0 ? p.v > want : p.v < want) || std::isnan(want)) {
          want = p.v;
        }
      }
      if (!any) continue;
      ASSERT_LT(j, m[0].points.size()) << q;
      const Point& got = m[0].points[j++];
      ASSERT_EQ(got.t, ts) << q;
      if (std::isnan(want)) {
        ++nan_steps;
        EXPECT_TRUE(std::isnan(got.v)) << q << " at " << ts;
      } else {
        EXPECT_EQ(got.v, want) << q << " at " << ts;
        EXPECT_EQ(std::signbit(got.v), std::signbit(want)) << q << " at " << ts;
      }
    }
    EXPECT_EQ(j, m[0].points.size()) << q;
    EXPECT_GT(nan_steps, 0) << q;
  }
}

}  // namespace
}  // namespace pantau::metrics::promql
