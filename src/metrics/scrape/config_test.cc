#include "metrics/scrape/config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pantau::metrics::scrape {
namespace {

using ::testing::HasSubstr;

TEST(ScrapeConfig, FullExampleWithDefaults) {
  auto s = ParseScrapeConfigsText(R"(
global:
  scrape_interval: 15s
  scrape_timeout: 10s
  evaluation_interval: 30s
  external_labels:
    region: eu
rule_files: [a.yml]
scrape_configs:
  - job_name: node
    scrape_interval: 8s
    static_configs:
      - targets: ['localhost:9100', 'b:9100']
        labels: {team: infra}
    relabel_configs:
      - source_labels: [__address__]
        regex: '(.*):.*'
        target_label: host
      - action: hashmod
        source_labels: [__address__]
        modulus: 4
        target_label: __tmp_hash
    metric_relabel_configs:
      - action: labeldrop
        regex: junk_.*
  - job_name: api
    scrape_interval: 5s
    scrape_timeout: 2s
    metrics_path: /m
    scheme: https
    params: {module: [http_2xx]}
    honor_labels: true
    honor_timestamps: false
    sample_limit: 1000
    basic_auth: {username: u, password_file: secret.txt}
    file_sd_configs:
      - files: ['sd/*.json', /abs/x.yml]
        refresh_interval: 30s
  - job_name: tok
    bearer_token: abc
)",
                                  "/etc/pantau/config.yml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->global.scrape_interval, absl::Seconds(15));
  EXPECT_EQ(s->global.external_labels.Get("region"), "eu");
  ASSERT_EQ(s->scrape_configs.size(), 3u);
  const ScrapeConfig& node = s->scrape_configs[0];
  EXPECT_EQ(node.scrape_interval, absl::Seconds(8));
  // The global timeout (10s) is capped at the job's interval.
  EXPECT_EQ(node.scrape_timeout, absl::Seconds(8));
  EXPECT_EQ(s->scrape_configs[2].scrape_interval, absl::Seconds(15));
  EXPECT_EQ(s->scrape_configs[2].scrape_timeout, absl::Seconds(10));
  EXPECT_EQ(node.metrics_path, "/metrics");
  EXPECT_EQ(node.scheme, "http");
  EXPECT_TRUE(node.honor_timestamps);
  ASSERT_EQ(node.static_configs.size(), 1u);
  EXPECT_EQ(node.static_configs[0].targets.size(), 2u);
  EXPECT_EQ(node.static_configs[0].labels.Get("team"), "infra");
  ASSERT_EQ(node.relabel_configs.size(), 2u);
  EXPECT_EQ(node.relabel_configs[0].action, RelabelAction::kReplace);
  EXPECT_EQ(node.relabel_configs[0].replacement, "$1");
  EXPECT_EQ(node.relabel_configs[1].modulus, 4u);
  EXPECT_EQ(node.metric_relabel_configs[0].action, RelabelAction::kLabelDrop);

  const ScrapeConfig& api = s->scrape_configs[1];
  EXPECT_EQ(api.scrape_interval, absl::Seconds(5));
  EXPECT_EQ(api.scrape_timeout, absl::Seconds(2));
  EXPECT_EQ(api.scheme, "https");
  EXPECT_EQ(api.params.at("module"), std::vector<std::string>{"http_2xx"});
  EXPECT_TRUE(api.honor_labels);
  EXPECT_FALSE(api.honor_timestamps);
  EXPECT_EQ(api.sample_limit, 1000u);
  ASSERT_TRUE(api.basic_auth);
  EXPECT_EQ(api.basic_auth->password_file, "/etc/pantau/secret.txt");
  ASSERT_EQ(api.file_sd_configs.size(), 1u);
  EXPECT_EQ(api.file_sd_configs[0].files[0], "/etc/pantau/sd/*.json");
  EXPECT_EQ(api.file_sd_configs[0].files[1], "/abs/x.yml");
  EXPECT_EQ(api.file_sd_configs[0].refresh_interval, absl::Seconds(30));

  const ScrapeConfig& tok = s->scrape_configs[2];
  ASSERT_TRUE(tok.authorization);
  EXPECT_EQ(tok.authorization->type, "Bearer");
  EXPECT_EQ(tok.authorization->credentials, "abc");
}

TEST(ScrapeConfig, EmptyRootGivesDefaults) {
  auto s = ParseScrapeConfigsText("", "c.yml");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->global.scrape_interval, absl::Minutes(1));
  EXPECT_TRUE(s->scrape_configs.empty());
}

// Regression: a short global interval with the default timeout was
// rejected ("timeout greater than interval"); Prometheus shrinks the default.
TEST(ScrapeConfig, DefaultTimeoutShrinksToShortGlobalInterval) {
  auto s = ParseScrapeConfigsText(
      "global:\n  scrape_interval: 2s\nscrape_configs:\n"
      "  - job_name: a\n    static_configs: [{targets: [\"x:1\"]}]\n",
      "p.yml");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->global.scrape_timeout, absl::Seconds(2));
  EXPECT_EQ(s->scrape_configs[0].scrape_timeout, absl::Seconds(2));
  // A file without scrape_configs is valid too.
  auto only_global = ParseScrapeConfigsText(
      "global:\n  scrape_interval: 5s\n"
      "log: {}\n",
      "p.yml");
  ASSERT_TRUE(only_global.ok()) << only_global.status();
  EXPECT_TRUE(only_global->scrape_configs.empty());
}

TEST(ScrapeConfig, ErrorsNameFileLineAndPath) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n",
       "config.yml:3: scrape_configs[0].scrape_intervall: unknown field"},
      {"scrape_configs:\n  - job_name: a\n    scrape_interval: [5s]\n",
       "config.yml:3: scrape_configs[0].scrape_interval: expected a duration"},
      {"scrape_configs:\n  - job_name: a\n    scrape_interval: 5 s\n",
       "config.yml:3: scrape_configs[0].scrape_interval: not a valid duration"},
      {"scrape_configs:\n  - job_name: a\n    honor_labels: maybe\n",
       "config.yml:3: scrape_configs[0].honor_labels: expected a boolean"},
      {"scrape_configs:\n  - job_name: a\n    sample_limit: -1\n",
       "scrape_configs[0].sample_limit: expected a non-negative integer"},
      {"scrape_configs:\n  - scrape_interval: 5s\n",
       "config.yml:2: scrape_configs[0]: job_name is empty"},
      {"scrape_configs:\n  - job_name: a\n  - job_name: a\n",
       "config.yml:3: scrape_configs[1]: found multiple scrape configs with "
       "job name \"a\""},
      {"scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n"
       "    scrape_timeout: 10s\n",
       "scrape timeout greater than scrape interval"},
      {"scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: ['http://x:80/metrics']\n",
       "scrape_configs[0].static_configs[0].targets: "
       "\"http://x:80/metrics\" is not a valid hostname"},
      {"scrape_configs:\n  - job_name: a\n    static_configs:\n"
       "      - targets: [a:1]\n        lables: {}\n",
       "config.yml:5: scrape_configs[0].static_configs[0].lables: unknown "
       "field"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: replace\n",
       "scrape_configs[0].relabel_configs[0]: relabel configuration for "
       "replace action requires 'target_label' value"},
      {"scrape_configs:\n  - job_name: a\n    relabel_configs:\n"
       "      - action: explode\n",
       "unknown relabel action \"explode\""},
      {"scrape_configs:\n  - job_name: a\n    bearer_token: x\n"
       "    bearer_token_file: y\n",
       "at most one of bearer_token & bearer_token_file"},
      {"scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n"
       "    bearer_token: x\n",
       "at most one of basic_auth"},
      {"scrape_configs:\n  - job_name: a\n    authorization: {type: Basic}\n",
       "use \"basic_auth\" instead"},
      {"scrape_configs:\n  - job_name: a\n    file_sd_configs:\n"
       "      - files: [x.txt]\n",
       "path name \"x.txt\" is not valid for file discovery"},
      {"scrape_configs:\n  - job_name: a\n    scheme: ftp\n",
       "unsupported scheme"},
      {"global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n",
       "global scrape timeout greater than scrape interval"},
      {"global:\n  scrape_interval: 1m\n  bogus: 1\n",
       "config.yml:3: global.bogus: unknown field"},
      {"global:\n  external_labels: {0a: b}\n", "not a valid label name"},
      {"scrape_configs:\n  - job_name: a\n    job_name: b\n",
       "field set twice"},
      {"scrape_configs: {a: 1}\n", "scrape_configs: expected a list"},
      {"scrape_configs:\n  - job_name: a\n    tls_config: {ca_file: x}\n",
       "config.yml:3: scrape_configs[0].tls_config: valid in Prometheus but "
       "not supported by pantau"},
      {"scrape_configs:\n  - job_name: a\n    follow_redirects: 3\n",
       "follow_redirects: expected a boolean"},
      {"scrape_configs:\n  - [\n", "config.yml:"},
  };
  for (const Case& c : cases) {
    auto s = ParseScrapeConfigsText(c.yaml, "config.yml");
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.error))
        << c.yaml;
  }
}

TEST(TargetGroups, JsonAndYaml) {
  auto j = ParseTargetGroups(
      R"([{"targets": ["a:1", "b:2"], "labels": {"env": "prod"}},
          {"targets": ["c:3"]}])",
      "/sd/x.json");
  ASSERT_TRUE(j.ok()) << j.status();
  ASSERT_EQ(j->size(), 2u);
  EXPECT_EQ((*j)[0].labels.Get("env"), "prod");
  EXPECT_EQ((*j)[1].targets[0], "c:3");
  EXPECT_EQ((*j)[1].source, "/sd/x.json:1");

  auto y =
      ParseTargetGroups("- targets: [a:1]\n  labels:\n    x: y\n", "/sd/x.yml");
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ((*y)[0].labels.Get("x"), "y");

  auto bad = ParseTargetGroups("- targets: [a:1]\n  labelz: {}\n", "f.yml");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("f.yml:2: [0].labelz: unknown field"));
  EXPECT_FALSE(ParseTargetGroups("[{", "f.json").ok());
}

}  // namespace
}  // namespace pantau::metrics::scrape
