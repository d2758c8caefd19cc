#include "metrics/scrape/scrape_manager.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/scrape/fake_appendable.h"
#include "metrics/scrape/fake_fetcher.h"

namespace pantau::metrics::scrape {
namespace {

using base::Labels;

class ScrapeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/scrape_manager_testXXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override {
    manager_.reset();
    std::filesystem::remove_all(dir_);
  }
  ScrapeManager& Manager() {
    manager_ = std::make_unique<ScrapeManager>(ScrapeManagerOptions{
        .storage = &store_, .fetcher = &fetcher_, .clock = &clock_});
    return *manager_;
  }
  ScrapeSettings Parse(const std::string& yaml) {
    auto s = ParseScrapeConfigsText(yaml, dir_ + "/config.yml");
    EXPECT_TRUE(s.ok()) << s.status();
    return *s;
  }
  // Runs every scrape due in (now, now + interval]: exactly one per target
  // whatever its offset.
  void RunInterval(absl::Duration interval = absl::Seconds(10)) {
    for (int i = 0; i < 10; ++i) {
      clock_.Advance(interval / 10);
      manager_->RunPending();
    }
  }
  size_t UpSamples(std::string_view instance) {
    size_t n = 0;
    for (const auto& r : store_.samples()) {
      if (r.labels.Get("__name__") == "up" &&
          r.labels.Get("instance") == instance && !IsStaleNaN(r.v)) {
        ++n;
      }
    }
    return n;
  }
  void WriteFile(const std::string& name, const std::string& content) {
    // Write-then-rename, as tools do, so a poll never sees half a file.
    std::string tmp = dir_ + "/." + name + ".tmp";
    std::ofstream(tmp) << content;
    std::filesystem::rename(tmp, dir_ + "/" + name);
  }

  std::string dir_;
  testing::FakeAppendable store_;
  testing::FakeFetcher fetcher_;
  base::FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  std::unique_ptr<ScrapeManager> manager_;
};

TEST_F(ScrapeManagerTest, ScrapesStaticTargetsOncePerInterval) {
  fetcher_.SetBody("http://a:1/metrics", "m 1\n");
  fetcher_.SetBody("http://b:2/metrics", "m 2\n");
  ASSERT_TRUE(Manager()
                  .ApplyConfig(Parse(R"(
scrape_configs:
  - job_name: j
    scrape_interval: 10s
    static_configs: [{targets: ['a:1', 'b:2']}]
)"))
                  .ok());
  RunInterval();
  EXPECT_EQ(UpSamples("a:1"), 1u);
  EXPECT_EQ(UpSamples("b:2"), 1u);
  RunInterval();
  EXPECT_EQ(UpSamples("a:1"), 2u);
  EXPECT_EQ(manager_->counters().scrapes.load(), 4u);
  EXPECT_EQ(manager_->counters().samples_appended.load(), 4u);
  EXPECT_EQ(manager_->counters().failed_scrapes.load(), 0u);
  auto targets = manager_->ActiveTargets();
  ASSERT_EQ(targets.size(), 2u);
  for (const TargetStatus& t : targets) {
    EXPECT_EQ(t.health, TargetHealth::kUp);
    EXPECT_EQ(t.job, "j");
    EXPECT_EQ(t.labels.Get("job"), "j");
    EXPECT_TRUE(t.discovered_labels.Has("__address__"));
    EXPECT_NE(t.last_scrape, absl::InfinitePast());
  }
  // The two targets scrape at different offsets within the interval
  // (spread), and each one's samples are a whole interval apart.
  std::vector<int64_t> ts_a, ts_b;
  for (const auto& r : store_.samples()) {
    if (r.labels.Get("__name__") != "up") continue;
    (r.labels.Get("instance") == "a:1" ? ts_a : ts_b).push_back(r.t);
  }
  ASSERT_EQ(ts_a.size(), 2u);
  EXPECT_EQ(ts_a[1] - ts_a[0], 10000);
  EXPECT_EQ(ts_b[1] - ts_b[0], 10000);
}

TEST_F(ScrapeManagerTest, DroppedTargetsAreListed) {
  ASSERT_TRUE(Manager()
                  .ApplyConfig(Parse(R"(
scrape_configs:
  - job_name: j
    static_configs: [{targets: ['a:1', 'skip:2']}]
    relabel_configs:
      - source_labels: [__address__]
        regex: skip.*
        action: drop
)"))
                  .ok());
  EXPECT_EQ(manager_->ActiveTargets().size(), 1u);
  auto dropped = manager_->DroppedTargets();
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].discovered_labels.Get("__address__"), "skip:2");
}

TEST_F(ScrapeManagerTest, ReloadRemovingTargetWritesStaleMarkers) {
  fetcher_.SetBody("http://a:1/metrics", "m 1\n");
  fetcher_.SetBody("http://b:2/metrics", "m 2\n");
  Manager();
  ASSERT_TRUE(manager_
                  ->ApplyConfig(Parse(
                      "scrape_configs:\n  - job_name: j\n"
                      "    scrape_interval: 10s\n"
                      "    static_configs: [{targets: ['a:1', 'b:2']}]\n"))
                  .ok());
  RunInterval();
  ASSERT_TRUE(
      manager_
          ->ApplyConfig(Parse("scrape_configs:\n  - job_name: j\n"
                              "    scrape_interval: 10s\n"
                              "    static_configs: [{targets: ['a:1']}]\n"))
          .ok());
  auto b = store_.Series(
      Labels::Of({{"__name__", "m"}, {"instance", "b:2"}, {"job", "j"}}));
  ASSERT_EQ(b.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(b[1].v));
  auto a = store_.Series(
      Labels::Of({{"__name__", "m"}, {"instance", "a:1"}, {"job", "j"}}));
  ASSERT_EQ(a.size(), 1u);  // unchanged target: untouched, keeps its loop
  RunInterval();
  EXPECT_EQ(UpSamples("a:1"), 2u);
  EXPECT_EQ(manager_->ActiveTargets().size(), 1u);
}

TEST_F(ScrapeManagerTest, ReloadWithChangedJobSettingsKeepsSeriesFresh) {
  fetcher_.SetBody("http://a:1/metrics", "m 1\n");
  Manager();
  const char* base =
      "scrape_configs:\n  - job_name: j\n    scrape_interval: 10s\n"
      "    static_configs: [{targets: ['a:1']}]\n";
  ASSERT_TRUE(manager_->ApplyConfig(Parse(base)).ok());
  RunInterval();
  // Same target, new settings: the loop is replaced without staleness
  // markers, and the new settings apply to the next scrape.
  ASSERT_TRUE(manager_
                  ->ApplyConfig(Parse(std::string(base) +
                                      "    metric_relabel_configs:\n"
                                      "      - source_labels: [__name__]\n"
                                      "        target_label: copied\n"))
                  .ok());
  for (const auto& r : store_.samples()) EXPECT_FALSE(IsStaleNaN(r.v));
  RunInterval();
  EXPECT_EQ(store_
                .Series(Labels::Of({{"__name__", "m"},
                                    {"copied", "m"},
                                    {"instance", "a:1"},
                                    {"job", "j"}}))
                .size(),
            1u);
  // A removed job's targets do get markers.
  ASSERT_TRUE(manager_->ApplyConfig(Parse("scrape_configs: []\n")).ok());
  EXPECT_TRUE(manager_->ActiveTargets().empty());
  auto up = store_.Series(
      Labels::Of({{"__name__", "up"}, {"instance", "a:1"}, {"job", "j"}}));
  ASSERT_FALSE(up.empty());
  EXPECT_TRUE(IsStaleNaN(up.back().v));
}

TEST_F(ScrapeManagerTest, FileSdReadsAndReReadsOnChange) {
  fetcher_.SetBody("http://a:1/metrics", "m 1\n");
  fetcher_.SetBody("http://b:2/metrics", "m 1\n");
  WriteFile("t.json", R"([{"targets": ["a:1"], "labels": {"env": "x"}}])");
  Manager();
  ASSERT_TRUE(manager_
                  ->ApplyConfig(Parse(R"(
scrape_configs:
  - job_name: f
    scrape_interval: 10s
    file_sd_configs:
      - files: ['*.json']
)"))
                  .ok());
  auto targets = manager_->ActiveTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].labels.Get("env"), "x");
  EXPECT_EQ(targets[0].discovered_labels.Get("__meta_filepath"),
            dir_ + "/t.json");
  RunInterval();
  EXPECT_EQ(UpSamples("a:1"), 1u);

  // The file changes: b replaces a, and a's series go stale.
  WriteFile("t.json", R"([{"targets": ["b:2"]}])");
  RunInterval();
  targets = manager_->ActiveTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].labels.Get("instance"), "b:2");
  EXPECT_GE(UpSamples("b:2"), 1u);
  auto a = store_.Series(Labels::Of(
      {{"__name__", "m"}, {"env", "x"}, {"instance", "a:1"}, {"job", "f"}}));
  ASSERT_EQ(a.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(a[1].v));

  // A broken file keeps the previous targets.
  WriteFile("t.json", "[{\"targets\": ");
  RunInterval();
  EXPECT_EQ(manager_->ActiveTargets().size(), 1u);
  // A YAML file joins via a second glob match? Only *.json is watched.
  WriteFile("u.yml", "- targets: ['c:3']\n");
  RunInterval();
  EXPECT_EQ(manager_->ActiveTargets().size(), 1u);
}

TEST_F(ScrapeManagerTest, InvalidMetricRelabelRejectedConfigKept) {
  Manager();
  ASSERT_TRUE(
      manager_
          ->ApplyConfig(Parse("scrape_configs:\n  - job_name: j\n"
                              "    static_configs: [{targets: [a:1]}]\n"))
          .ok());
  ScrapeSettings bad = Parse("scrape_configs:\n  - job_name: j\n");
  bad.scrape_configs[0].metric_relabel_configs.push_back(RelabelConfig{});
  EXPECT_FALSE(manager_->ApplyConfig(bad).ok());
  EXPECT_EQ(manager_->ActiveTargets().size(), 1u);
}

TEST_F(ScrapeManagerTest, StopWritesStaleMarkers) {
  fetcher_.SetBody("http://a:1/metrics", "m 1\n");
  Manager();
  ASSERT_TRUE(
      manager_
          ->ApplyConfig(Parse("scrape_configs:\n  - job_name: j\n"
                              "    scrape_interval: 10s\n"
                              "    static_configs: [{targets: [a:1]}]\n"))
          .ok());
  RunInterval();
  manager_->Stop();
  auto m = store_.Series(
      Labels::Of({{"__name__", "m"}, {"instance", "a:1"}, {"job", "j"}}));
  ASSERT_EQ(m.size(), 2u);
  EXPECT_TRUE(IsStaleNaN(m[1].v));
}

TEST_F(ScrapeManagerTest, BackgroundThreadScrapesWithRealClock) {
  // The real scheduler thread and worker pool: a 1s-interval target is
  // fetched; the test waits on the fetcher's notification, not a sleep.
  fetcher_.SetBody("http://a:1/metrics", "m 1\n");
  manager_ = std::make_unique<ScrapeManager>(
      ScrapeManagerOptions{.storage = &store_, .fetcher = &fetcher_});
  ASSERT_TRUE(
      manager_
          ->ApplyConfig(Parse("scrape_configs:\n  - job_name: j\n"
                              "    scrape_interval: 1s\n"
                              "    static_configs: [{targets: [a:1]}]\n"))
          .ok());
  manager_->Start();
  EXPECT_TRUE(
      fetcher_.first_fetch().WaitForNotificationWithTimeout(absl::Seconds(10)));
  manager_->Stop();
}

}  // namespace
}  // namespace pantau::metrics::scrape
