// Head behaviour through the DB's Appender/Querier: matchers, ordering,
// duplicates, out-of-order window, limits, concurrency.
#include <thread>

#include "base/env.h"
#include "gtest/gtest.h"
#include "metrics/tsdb/db.h"
#include "metrics/tsdb/test_util.h"

namespace pantau::metrics::tsdb {
namespace {

using base::Labels;
using testing::Eq;
using testing::Query;

class HeadTest : public ::testing::Test {
 protected:
  void Open(Options o = {}) {
    o.dir = "/db";
    o.env = env_.get();
    o.maintenance_interval = absl::ZeroDuration();
    auto db = DB::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
  }
  void Add(const Labels& l, int64_t t, double v) {
    auto app = db_->NewAppender();
    auto r = app->Append(0, l, t, v);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(app->Commit().ok());
  }
  std::unique_ptr<base::Env> env_ = base::NewMemEnv();
  std::unique_ptr<DB> db_;
};

TEST_F(HeadTest, MatchersFollowPrometheusSemantics) {
  Open();
  Add(Labels::Of({{"__name__", "up"}, {"job", "a"}, {"env", "prod"}}), 1, 1);
  Add(Labels::Of({{"__name__", "up"}, {"job", "b"}}), 1, 2);
  Add(Labels::Of({{"__name__", "up"}, {"job", "c"}, {"env", "dev"}}), 1, 3);
  Add(Labels::Of({{"__name__", "down"}, {"job", "a"}}), 1, 4);
  auto names = [&](std::vector<Matcher> ms) {
    std::vector<std::string> out;
    for (auto& [k, v] : Query(*db_, ms)) out.push_back(k);
    return out;
  };
  const std::string a = R"({__name__="up", env="prod", job="a"})";
  const std::string b = R"({__name__="up", job="b"})";
  const std::string c = R"({__name__="up", env="dev", job="c"})";
  const std::string d = R"({__name__="down", job="a"})";
  EXPECT_EQ(names({Eq("__name__", "up")}), (std::vector<std::string>{c, a, b}));
  EXPECT_EQ(names({Eq("__name__", "up"), Eq("env", "")}),
            (std::vector<std::string>{b}));
  EXPECT_EQ(names({Eq("__name__", "up"),
                   Matcher::Must(MatchType::kNotEqual, "env", "prod")}),
            (std::vector<std::string>{c, b}));
  EXPECT_EQ(names({Eq("__name__", "up"),
                   Matcher::Must(MatchType::kNotEqual, "env", "")}),
            (std::vector<std::string>{c, a}));
  EXPECT_EQ(names({Matcher::Must(MatchType::kRegexMatch, "job", "a|c")}),
            (std::vector<std::string>{d, c, a}));
  EXPECT_EQ(names({Eq("__name__", "up"),
                   Matcher::Must(MatchType::kRegexMatch, "env", "p.*|")}),
            (std::vector<std::string>{a, b}));
  EXPECT_EQ(names({Eq("__name__", "up"),
                   Matcher::Must(MatchType::kRegexNoMatch, "job", "a|b")}),
            (std::vector<std::string>{c}));
  EXPECT_EQ(names({Eq("__name__", "up"),
                   Matcher::Must(MatchType::kRegexNoMatch, "env", ".+")}),
            (std::vector<std::string>{b}));
  EXPECT_TRUE(names({Eq("__name__", "nope")}).empty());
  EXPECT_TRUE(names({Eq("job", "a"), Eq("job", "b")}).empty());

  auto q = db_->NewQuerier(0, 10);
  ASSERT_TRUE(q.ok());
  auto set = (*q)->Select(false, nullptr, {Eq("env", "")});
  EXPECT_FALSE(set->Next());
  EXPECT_FALSE(set->status().ok()) << "all-empty matchers must be refused";
  auto vals = (*q)->LabelValues("job", {});
  ASSERT_TRUE(vals.ok());
  EXPECT_EQ(*vals, (std::vector<std::string>{"a", "b", "c"}));
  vals = (*q)->LabelValues("job", {Eq("__name__", "up"), Eq("env", "dev")});
  ASSERT_TRUE(vals.ok());
  EXPECT_EQ(*vals, (std::vector<std::string>{"c"}));
  auto lnames = (*q)->LabelNames({Eq("job", "b")});
  ASSERT_TRUE(lnames.ok());
  EXPECT_EQ(*lnames, (std::vector<std::string>{"__name__", "job"}));
}

TEST_F(HeadTest, QueryRespectsTimeRangeAndBatchesAreInvisibleUntilCommit) {
  Open();
  const Labels l = Labels::Of({{"__name__", "m"}});
  auto app = db_->NewAppender();
  SeriesRef ref = 0;
  for (int i = 0; i < 1000; ++i) {
    auto r = app->Append(ref, l, i * 1000, i);
    ASSERT_TRUE(r.ok()) << r.status();
    ref = *r;
  }
  EXPECT_TRUE(Query(*db_, {Eq("__name__", "m")}).empty());
  ASSERT_TRUE(app->Commit().ok());
  auto got = Query(*db_, {Eq("__name__", "m")}, 10000, 19999);
  ASSERT_EQ(got.size(), 1u);
  const auto& s = got.begin()->second;
  ASSERT_EQ(s.size(), 10u);
  EXPECT_EQ(s.front().t, 10000);
  EXPECT_EQ(s.back().v, 19);
  EXPECT_EQ(Query(*db_, {Eq("__name__", "m")}).begin()->second.size(), 1000u);

  auto app2 = db_->NewAppender();
  ASSERT_TRUE(app2->Append(ref, Labels(), 5000000, 1).ok());
  ASSERT_TRUE(app2->Rollback().ok());
  EXPECT_EQ(Query(*db_, {Eq("__name__", "m")}).begin()->second.size(), 1000u);
}

TEST_F(HeadTest, OutOfOrderAndDuplicatesAreRejectedWithReasons) {
  Open();
  const Labels l = Labels::Of({{"__name__", "m"}});
  Add(l, 1000, 1);
  auto app = db_->NewAppender();
  auto r = app->Append(0, l, 500, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("out of order"), std::string::npos)
      << r.status();
  r = app->Append(0, l, 1000, 2);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate"), std::string::npos);
  EXPECT_TRUE(app->Append(0, l, 1000, 1).ok()) << "same sample again is fine";
  ASSERT_TRUE(app->Append(0, l, 2000, 2).ok());
  EXPECT_FALSE(app->Append(0, l, 1500, 2).ok()) << "behind the batch";
  ASSERT_TRUE(app->Commit().ok());
  Stats st = db_->GetStats();
  EXPECT_EQ(st.rejected["out_of_order"], 2u);
  EXPECT_EQ(st.rejected["duplicate"], 1u);
  auto got = Query(*db_, {Eq("__name__", "m")});
  ASSERT_EQ(got.begin()->second.size(), 2u);
}

TEST_F(HeadTest, OutOfOrderWindowAcceptsRecentSamples) {
  Options o;
  o.out_of_order_window = 10000;
  Open(o);
  const Labels l = Labels::Of({{"__name__", "m"}});
  Add(l, 100000, 1);
  Add(l, 95000, 2);
  Add(l, 99000, 3);
  auto app = db_->NewAppender();
  EXPECT_FALSE(app->Append(0, l, 80000, 4).ok()) << "outside the window";
  EXPECT_FALSE(app->Append(0, l, 95000, 9).ok()) << "duplicate ooo sample";
  ASSERT_TRUE(app->Commit().ok());
  auto got = Query(*db_, {Eq("__name__", "m")});
  const auto& s = got.begin()->second;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].t, 95000);
  EXPECT_EQ(s[1].t, 99000);
  EXPECT_EQ(s[2].t, 100000);
  // Survives a restart.
  db_.reset();
  Open(o);
  EXPECT_EQ(Query(*db_, {Eq("__name__", "m")}).begin()->second.size(), 3u);
}

TEST_F(HeadTest, SeriesLimitsRejectNewSeriesOnly) {
  Options o;
  o.max_series = 3;
  o.max_series_per_metric = 2;
  Open(o);
  Add(Labels::Of({{"__name__", "a"}, {"i", "1"}}), 1, 1);
  Add(Labels::Of({{"__name__", "a"}, {"i", "2"}}), 1, 1);
  auto app = db_->NewAppender();
  auto r = app->Append(0, Labels::Of({{"__name__", "a"}, {"i", "3"}}), 1, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("per-metric"), std::string::npos);
  ASSERT_TRUE(app->Append(0, Labels::Of({{"__name__", "b"}}), 1, 1).ok());
  r = app->Append(0, Labels::Of({{"__name__", "c"}}), 1, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("series limit"), std::string::npos);
  // Existing series keep taking samples.
  ASSERT_TRUE(
      app->Append(0, Labels::Of({{"__name__", "a"}, {"i", "1"}}), 2, 1).ok());
  ASSERT_TRUE(app->Commit().ok());
  Stats st = db_->GetStats();
  EXPECT_EQ(st.head_series, 3);
  EXPECT_EQ(st.rejected["series_limit"], 1u);
  EXPECT_EQ(st.rejected["series_limit_per_metric"], 1u);
}

TEST_F(HeadTest, SpecialValuesSurviveHeadAndRestart) {
  Open();
  const Labels l = Labels::Of({{"__name__", "m"}});
  Add(l, 1, StaleNaN());
  Add(l, 2, -std::numeric_limits<double>::infinity());
  Add(l, 3, -0.0);
  db_.reset();
  Open();
  auto got = Query(*db_, {Eq("__name__", "m")});
  const auto& s = got.begin()->second;
  ASSERT_EQ(s.size(), 3u);
  EXPECT_TRUE(IsStaleNaN(s[0].v));
  EXPECT_EQ(s[1].v, -std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::signbit(s[2].v));
}

TEST_F(HeadTest, ConcurrentAppendersAndQueriers) {
  Options o;
  o.stripes = 8;
  Open(o);
  constexpr int kThreads = 4, kSeries = 50, kSamples = 200;
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kSamples; ++i) {
        auto app = db_->NewAppender();
        for (int s = 0; s < kSeries; ++s) {
          auto l = Labels::Of({{"__name__", "m"},
                               {"t", std::to_string(th)},
                               {"s", std::to_string(s)}});
          ASSERT_TRUE(app->Append(0, l, i * 15000, i).ok());
        }
        ASSERT_TRUE(app->Commit().ok());
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) Query(*db_, {Eq("__name__", "m")});
  });
  for (auto& t : threads) t.join();
  auto got = Query(*db_, {Eq("__name__", "m")});
  ASSERT_EQ(got.size(), static_cast<size_t>(kThreads * kSeries));
  for (const auto& [k, v] : got) EXPECT_EQ(v.size(), size_t{kSamples}) << k;
  Stats st = db_->GetStats();
  EXPECT_EQ(st.samples_appended, uint64_t{kThreads * kSeries * kSamples});
  EXPECT_LE(st.wal.fsyncs, st.commits) << "group commit never adds fsyncs";
}

}  // namespace
}  // namespace pantau::metrics::tsdb
