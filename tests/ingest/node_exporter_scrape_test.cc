// Scrapes a real prometheus-node-exporter through the production fetcher
// (pantau::net::HttpClient) and the scrape loop, into a recording store.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "metrics/scrape/config.h"
#include "metrics/scrape/fake_appendable.h"
#include "metrics/scrape/net_fetcher.h"
#include "metrics/scrape/scrape_manager.h"
#include "net/http_client.h"
#include "subprocess.h"

namespace pantau::metrics::scrape {
namespace {

constexpr char kNodeExporter[] = "/usr/bin/prometheus-node-exporter";

TEST(NodeExporterScrape, ScrapesRealNodeExporter) {
  if (!std::filesystem::exists(kNodeExporter)) {
    GTEST_SKIP() << "prometheus-node-exporter is not installed";
  }
  const int port = pantau::testing::FreePort();
  const std::string log =
      absl::StrCat(::testing::TempDir(), "/node_exporter.log");
  pantau::testing::Subprocess node;
  ASSERT_TRUE(
      node.Start({kNodeExporter,
                  absl::StrCat("--web.listen-address=127.0.0.1:", port)},
                 log)
          .ok());
  ASSERT_TRUE(node.WaitHttpOk(port, "/metrics", absl::Seconds(20)).ok())
      << "see " << log;

  net::HttpClient client;
  NetFetcher fetcher(&client);
  metrics::testing::FakeAppendable store;
  base::FakeClock clock(absl::Now());
  ScrapeManager manager(
      {.storage = &store, .fetcher = &fetcher, .clock = &clock});
  auto settings = ParseScrapeConfigsText(
      absl::StrCat("scrape_configs:\n  - job_name: node\n"
                   "    scrape_interval: 10s\n"
                   "    static_configs: [{targets: ['127.0.0.1:",
                   port, "']}]\n"),
      "config.yml");
  ASSERT_TRUE(settings.ok()) << settings.status();
  ASSERT_TRUE(manager.ApplyConfig(*settings).ok());
  // One interval of the (fake) schedule, so the target's offset is hit.
  for (int i = 0; i < 10; ++i) {
    clock.Advance(absl::Seconds(1));
    manager.RunPending();
  }
  auto targets = manager.ActiveTargets();
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].health, TargetHealth::kUp) << targets[0].last_error;

  size_t node_samples = 0;
  double up = -1, scraped = -1;
  for (const auto& r : store.samples()) {
    std::string_view name = r.labels.Get("__name__");
    if (name.starts_with("node_")) ++node_samples;
    if (name == "up") up = r.v;
    if (name == "scrape_samples_scraped") scraped = r.v;
    EXPECT_EQ(r.labels.Get("job"), "node");
  }
  EXPECT_EQ(up, 1);
  EXPECT_GT(node_samples, 100u);
  EXPECT_GT(scraped, 100);
}

}  // namespace
}  // namespace pantau::metrics::scrape
