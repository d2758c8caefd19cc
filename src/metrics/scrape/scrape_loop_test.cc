#include "metrics/scrape/scrape_loop.h"

#include <algorithm>
#include <cmath>

#include "base/compression.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/scrape/fake_appendable.h"
#include "metrics/scrape/fake_fetcher.h"

namespace pantau::metrics::scrape {
namespace {

using base::Labels;
using ::testing::HasSubstr;

constexpr char kUrl[] = "http://host:9100/metrics";

Target MakeTarget() {
  ScrapeConfig cfg;
  cfg.job_name = "node";
  cfg.scrape_interval = absl::Seconds(10);
  cfg.scrape_timeout = absl::Seconds(5);
  auto r = PopulateTarget(cfg, Relabeler(), Labels::Of({{"env", "prod"}}),
                          "host:9100");
  return *r->target;
}

class ScrapeLoopTest : public ::testing::Test {
 protected:
  ScrapeLoop& Loop(ScrapeLoopOptions opts = {}) {
    opts.job = "node";
    loop_ = std::make_unique<ScrapeLoop>(MakeTarget(), std::move(opts), &store_,
                                         &fetcher_, &clock_);
    return *loop_;
  }
  std::vector<std::pair<std::string, std::string>> LastHeaders() {
    return fetcher_.requests().back().headers;
  }
  // Scrapes at the clock's time, then moves the clock one interval on.
  void Scrape() {
    loop_->ScrapeOnce(clock_.Now());
    clock_.Advance(absl::Seconds(10));
  }
  Labels Series(
      std::initializer_list<std::pair<std::string_view, std::string_view>>
          extra) {
    base::LabelsBuilder b(Labels::Of(
        {{"env", "prod"}, {"instance", "host:9100"}, {"job", "node"}}));
    for (auto [k, v] : extra) b.Set(k, v);
    return b.Build();
  }

  testing::FakeAppendable store_;
  testing::FakeFetcher fetcher_;
  base::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<ScrapeLoop> loop_;
};

TEST_F(ScrapeLoopTest, TargetLabelsAndUrl) {
  ScrapeConfig cfg;
  cfg.job_name = "j";
  cfg.scrape_interval = absl::Seconds(10);
  cfg.scrape_timeout = absl::Seconds(5);
  cfg.scheme = "https";
  cfg.params["module"] = {"http 2xx"};
  RelabelConfig rc;
  rc.source_labels = {"__meta_x"};
  rc.target_label = "x";
  auto relabeler = Relabeler::Create({rc});
  auto r = PopulateTarget(cfg, *relabeler, Labels::Of({{"__meta_x", "1"}}),
                          "example.com");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->target);
  EXPECT_EQ(r->target->url, "https://example.com:443/metrics?module=http+2xx");
  EXPECT_EQ(
      r->target->PublicLabels(),
      Labels::Of({{"instance", "example.com:443"}, {"job", "j"}, {"x", "1"}}));
  EXPECT_EQ(r->discovered_labels.Get("__meta_x"), "1");
  EXPECT_EQ(r->discovered_labels.Get("__scrape_interval__"), "10s");

  RelabelConfig drop;
  drop.action = RelabelAction::kDrop;
  drop.source_labels = {"__meta_x"};
  drop.regex = "1";
  auto dropper = Relabeler::Create({drop});
  r = PopulateTarget(cfg, *dropper, Labels::Of({{"__meta_x", "1"}}), "a:1");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->target);
  EXPECT_FALSE(PopulateTarget(cfg, Relabeler(), Labels(), "a/b:1").ok());
}

TEST_F(ScrapeLoopTest, AppendsSamplesAndReportSeries) {
  fetcher_.SetBody(kUrl,
                   "# TYPE a counter\na_total{x=\"1\"} 5\nb 2.5\nc NaN\n");
  Loop().ScrapeOnce(clock_.Now());
  const int64_t ts = 1700000000000;
  EXPECT_THAT(store_.Series(Series({{"__name__", "a_total"}, {"x", "1"}})),
              ::testing::ElementsAre(::testing::FieldsAre(ts, 5)));
  EXPECT_EQ(store_.Series(Series({{"__name__", "b"}}))[0].v, 2.5);
  EXPECT_TRUE(std::isnan(store_.Series(Series({{"__name__", "c"}}))[0].v));
  EXPECT_EQ(store_.Series(Series({{"__name__", "up"}}))[0].v, 1);
  EXPECT_EQ(
      store_.Series(Series({{"__name__", "scrape_samples_scraped"}}))[0].v, 3);
  EXPECT_EQ(store_
                .Series(Series(
                    {{"__name__", "scrape_samples_post_metric_relabeling"}}))[0]
                .v,
            3);
  EXPECT_EQ(store_.Series(Series({{"__name__", "scrape_series_added"}}))[0].v,
            3);
  EXPECT_EQ(
      store_.Series(Series({{"__name__", "scrape_duration_seconds"}})).size(),
      1u);
  TargetStatus st = loop_->Status();
  EXPECT_EQ(st.health, TargetHealth::kUp);
  EXPECT_EQ(st.scrape_url, kUrl);

  // The request negotiates OpenMetrics first and gzip.
  auto req = fetcher_.requests().back();
  bool accept = false, gzip = false;
  for (auto& [k, v] : req.headers) {
    if (k == "Accept") {
      accept = v.starts_with("application/openmetrics-text;version=1.0.0");
    }
    if (k == "Accept-Encoding") gzip = v == "gzip";
  }
  EXPECT_TRUE(accept);
  EXPECT_TRUE(gzip);
  EXPECT_EQ(req.timeout, absl::Seconds(5));
}

TEST_F(ScrapeLoopTest, SeriesAddedCountsOnlyNewSeries) {
  fetcher_.SetBody(kUrl, "a 1\nb 1\n");
  Loop();
  Scrape();
  fetcher_.SetBody(kUrl, "a 2\nb 2\nc 2\n");
  Scrape();
  auto added = store_.Series(Series({{"__name__", "scrape_series_added"}}));
  ASSERT_EQ(added.size(), 2u);
  EXPECT_EQ(added[0].v, 2);
  EXPECT_EQ(added[1].v, 1);
}

TEST_F(ScrapeLoopTest, DuplicateAndOutOfOrderSamplesAreSkippedAndCounted) {
  // The same series twice with different values, and an explicit
  // timestamp older than the previous scrape's.
  fetcher_.SetBody(kUrl, "a 1\na 2\nb 1 1700000000000\n");
  ScrapeCounters counters;
  Loop({.counters = &counters});
  Scrape();
  fetcher_.SetBody(kUrl, "a 1\nb 1 1600000000000\n");
  Scrape();
  EXPECT_EQ(counters.samples_duplicate.load(), 1u);
  EXPECT_EQ(counters.samples_out_of_order.load(), 1u);
  EXPECT_EQ(loop_->Status().health, TargetHealth::kUp);
  EXPECT_EQ(store_.Series(Series({{"__name__", "a"}})).size(), 2u);
}

TEST_F(ScrapeLoopTest, StaleMarkerWhenSeriesDisappears) {
  fetcher_.SetBody(kUrl, "a 1\nb 1\n");
  Loop();
  Scrape();
  fetcher_.SetBody(kUrl, "a 2\n");
  Scrape();
  auto b = store_.Series(Series({{"__name__", "b"}}));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(b[1].v));
  EXPECT_EQ(b[1].t, 1700000010000);
  // Only one marker: the series is no longer tracked.
  Scrape();
  EXPECT_EQ(store_.Series(Series({{"__name__", "b"}})).size(), 2u);
  auto a = store_.Series(Series({{"__name__", "a"}}));
  for (const Sample& s : a) EXPECT_FALSE(IsStaleNaN(s.v));
}

TEST_F(ScrapeLoopTest, FailedScrapeMarksEverythingStaleAndUpZero) {
  fetcher_.SetBody(kUrl, "a 1\n");
  Loop();
  Scrape();
  fetcher_.SetError(kUrl, absl::DeadlineExceededError("context deadline"));
  Scrape();
  auto a = store_.Series(Series({{"__name__", "a"}}));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(a[1].v));
  auto up = store_.Series(Series({{"__name__", "up"}}));
  ASSERT_EQ(up.size(), 2u);
  EXPECT_EQ(up[1].v, 0);
  EXPECT_EQ(loop_->Status().health, TargetHealth::kDown);
  EXPECT_THAT(loop_->Status().last_error, HasSubstr("context deadline"));
  // Recovers.
  fetcher_.SetBody(kUrl, "a 3\n");
  Scrape();
  EXPECT_EQ(store_.Series(Series({{"__name__", "a"}})).back().v, 3);
  EXPECT_EQ(store_.Series(Series({{"__name__", "up"}})).back().v, 1);
}

TEST_F(ScrapeLoopTest, ParseErrorAndHttpErrorFailTheScrape) {
  fetcher_.SetBody(kUrl, "a 1\nb{ 2\n");
  Loop();
  Scrape();
  EXPECT_TRUE(store_.Series(Series({{"__name__", "a"}})).empty());
  EXPECT_THAT(loop_->Status().last_error, HasSubstr("line 2"));
  FetchResponse r;
  r.status = 503;
  fetcher_.Set(kUrl, r);
  Scrape();
  EXPECT_THAT(loop_->Status().last_error, HasSubstr("HTTP status 503"));
  EXPECT_EQ(store_.Series(Series({{"__name__", "up"}})).back().v, 0);
}

TEST_F(ScrapeLoopTest, SampleLimitFailsScrape) {
  fetcher_.SetBody(kUrl, "a 1\nb 1\nc 1\n");
  ScrapeCounters counters;
  Loop({.sample_limit = 2, .counters = &counters});
  Scrape();
  EXPECT_EQ(counters.exceeded_sample_limit.load(), 1u);
  EXPECT_EQ(counters.failed_scrapes.load(), 1u);
  EXPECT_TRUE(store_.Series(Series({{"__name__", "a"}})).empty());
  EXPECT_EQ(store_.Series(Series({{"__name__", "up"}}))[0].v, 0);
  EXPECT_THAT(loop_->Status().last_error, HasSubstr("sample limit exceeded"));
}

TEST_F(ScrapeLoopTest, HonorLabelsAndExportedPrefix) {
  fetcher_.SetBody(kUrl, "a{job=\"other\",exported_job=\"x\"} 1\n");
  Loop();
  Scrape();
  EXPECT_EQ(store_
                .Series(Series({{"__name__", "a"},
                                {"exported_job", "x"},
                                {"exported_exported_job", "other"}}))
                .size(),
            1u);
  store_.Clear();
  Loop({.honor_labels = true});
  Scrape();
  auto all = store_.samples();
  bool found = false;
  for (auto& r : all) {
    if (r.labels.Get("__name__") == "a") {
      EXPECT_EQ(r.labels.Get("job"), "other");
      EXPECT_EQ(r.labels.Get("instance"), "host:9100");
      found = true;
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ScrapeLoopTest, HonorTimestampsAndSnapping) {
  fetcher_.SetBody(kUrl, "a 1 1600000000000\n");
  Loop();
  // Started 10ms after the scheduled time: snapped to the schedule.
  absl::Time scheduled = clock_.Now();
  clock_.Advance(absl::Milliseconds(10));
  loop_->ScrapeOnce(scheduled);
  EXPECT_EQ(store_.Series(Series({{"__name__", "a"}}))[0].t, 1600000000000);
  EXPECT_EQ(store_.Series(Series({{"__name__", "up"}}))[0].t,
            base::ToMillis(scheduled));
  store_.Clear();
  Loop({.honor_timestamps = false});
  // 100ms late: beyond the tolerance, the real start time is used.
  scheduled = clock_.Now() + absl::Seconds(10);
  clock_.Set(scheduled + absl::Milliseconds(100));
  loop_->ScrapeOnce(scheduled);
  EXPECT_EQ(store_.Series(Series({{"__name__", "a"}}))[0].t,
            base::ToMillis(scheduled) + 100);
}

TEST_F(ScrapeLoopTest, MetricRelabelingDropsAndRenames) {
  RelabelConfig drop;
  drop.action = RelabelAction::kDrop;
  drop.source_labels = {"__name__"};
  drop.regex = "junk.*";
  auto r = Relabeler::Create({drop});
  fetcher_.SetBody(kUrl, "junk_a 1\nkeep 1\n");
  Loop({.metric_relabeler = std::make_shared<Relabeler>(*r)});
  Scrape();
  EXPECT_TRUE(store_.Series(Series({{"__name__", "junk_a"}})).empty());
  EXPECT_EQ(store_.Series(Series({{"__name__", "keep"}})).size(), 1u);
  EXPECT_EQ(
      store_.Series(Series({{"__name__", "scrape_samples_scraped"}}))[0].v, 2);
  EXPECT_EQ(store_
                .Series(Series(
                    {{"__name__", "scrape_samples_post_metric_relabeling"}}))[0]
                .v,
            1);
}

TEST_F(ScrapeLoopTest, GzipAndOpenMetricsWithExemplars) {
  FetchResponse r;
  r.status = 200;
  r.content_type = "application/openmetrics-text; version=1.0.0";
  r.content_encoding = "gzip";
  r.body = *base::Compress(base::Codec::kGzip,
                           "# TYPE c counter\nc_total 3 # {trace_id=\"t1\"} 1 "
                           "1700000000.5\n# EOF\n");
  fetcher_.Set(kUrl, r);
  Loop();
  Scrape();
  EXPECT_EQ(store_.Series(Series({{"__name__", "c_total"}}))[0].v, 3);
  ASSERT_EQ(store_.exemplars().size(), 1u);
  EXPECT_EQ(store_.exemplars()[0].exemplar.labels.Get("trace_id"), "t1");
  EXPECT_EQ(store_.exemplars()[0].exemplar.t, 1700000000500);
}

TEST_F(ScrapeLoopTest, StopMarksAllSeriesAndReportStale) {
  fetcher_.SetBody(kUrl, "a 1\n");
  Loop();
  Scrape();
  loop_->Stop();
  auto a = store_.Series(Series({{"__name__", "a"}}));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(a[1].v));
  auto up = store_.Series(Series({{"__name__", "up"}}));
  ASSERT_EQ(up.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(up[1].v));
}

TEST_F(ScrapeLoopTest, OffsetSpreadsAndKeepsPhase) {
  Loop();
  absl::Time now = clock_.Now();
  absl::Time next = loop_->NextScrapeTime(now);
  EXPECT_GE(next, now);
  EXPECT_LT(next, now + absl::Seconds(10));
  // Same phase one interval later.
  EXPECT_EQ(loop_->NextScrapeTime(next + absl::Nanoseconds(1)),
            next + absl::Seconds(10));
  EXPECT_EQ(loop_->NextScrapeTime(next), next);
}

TEST_F(ScrapeLoopTest, AuthorizationHeaders) {
  fetcher_.SetBody(kUrl, "a 1\n");
  Loop({.basic_auth = BasicAuth{"user", "pass", ""}});
  Scrape();
  bool ok = false;
  for (auto& [k, v] : LastHeaders()) {
    if (k == "Authorization") ok = v == "Basic dXNlcjpwYXNz";
  }
  EXPECT_TRUE(ok);
  Authorization a;
  a.credentials = "tok";
  Loop({.authorization = a});
  Scrape();
  ok = false;
  for (auto& [k, v] : LastHeaders()) {
    if (k == "Authorization") ok = v == "Bearer tok";
  }
  EXPECT_TRUE(ok);
  // A missing password file fails the scrape with a clear error.
  Loop({.basic_auth = BasicAuth{"u", "", "/nonexistent/pw"}});
  Scrape();
  EXPECT_THAT(loop_->Status().last_error, HasSubstr("/nonexistent/pw"));
}

TEST_F(ScrapeLoopTest, KeepsMetadataOfTheLastGoodScrape) {
  fetcher_.SetBody(kUrl,
                   "# HELP http_requests_total Requests \\ served.\n"
                   "# TYPE http_requests_total counter\n"
                   "http_requests_total 1\n"
                   "# TYPE temp untyped\n"
                   "temp 3\n");
  Loop();
  EXPECT_TRUE(loop_->Metadata().empty());  // nothing scraped yet
  Scrape();
  auto md = loop_->Metadata();
  std::sort(md.begin(), md.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  ASSERT_EQ(md.size(), 2u);
  EXPECT_EQ(md[0].first, "http_requests_total");
  EXPECT_EQ(md[0].second.type, "counter");
  EXPECT_EQ(md[0].second.help, "Requests \\ served.");
  EXPECT_EQ(md[1].first, "temp");
  EXPECT_EQ(md[1].second.type, "unknown");  // "untyped", as Prometheus says

  // A failed scrape keeps what the target said last time.
  fetcher_.SetError(kUrl, absl::DeadlineExceededError("slow"));
  Scrape();
  EXPECT_EQ(loop_->Metadata().size(), 2u);

  // OpenMetrics adds units; families gone from the body are forgotten.
  fetcher_.SetBody(kUrl,
                   "# TYPE disk_read_bytes counter\n"
                   "# UNIT disk_read_bytes bytes\n"
                   "# HELP disk_read_bytes Bytes read.\n"
                   "disk_read_bytes_total 5\n"
                   "# EOF\n",
                   "application/openmetrics-text; version=1.0.0");
  Scrape();
  md = loop_->Metadata();
  ASSERT_EQ(md.size(), 1u);
  EXPECT_EQ(md[0].first, "disk_read_bytes");
  EXPECT_EQ(md[0].second, (FamilyMetadata{"counter", "Bytes read.", "bytes"}));
}

}  // namespace
}  // namespace pantau::metrics::scrape
