#include "server/config.h"

#include <cstdio>
#include <fstream>

#include "gtest/gtest.h"
#include "server/resolve.h"

namespace pantau::server {
namespace {

absl::Status ParseError(std::string_view yaml) {
  return ParseConfig(yaml, "pantau.yml", Options()).status();
}

TEST(Config, EmptyFileMeansDefaults) {
  auto c = ParseConfig("", "pantau.yml", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->options.web_listen_address, ":9090");
  EXPECT_EQ(c->options.storage_path, "./data");
}

TEST(Config, EveryFlagIsAKey) {
  auto c = ParseConfig(R"(
web:
  listen_address: 127.0.0.1:9999
  read_timeout: 30s
  max_request_bytes: 8MB
  enable_lifecycle: true
storage:
  path: /var/lib/pantau
  retention:
    time: 30d
    size: 10GB
log:
  level: debug
  format: json
)",
                       "pantau.yml", Options());
  ASSERT_TRUE(c.ok()) << c.status();
  const Options& o = c->options;
  EXPECT_EQ(o.web_listen_address, "127.0.0.1:9999");
  EXPECT_EQ(o.web_read_timeout, absl::Seconds(30));
  EXPECT_EQ(o.web_max_request_bytes, 8 << 20);
  EXPECT_TRUE(o.web_enable_lifecycle);
  EXPECT_EQ(o.storage_path, "/var/lib/pantau");
  EXPECT_EQ(o.storage_retention_time, absl::Hours(24 * 30));
  EXPECT_EQ(o.storage_retention_size, int64_t{10} << 30);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.log_format, "json");
  // And every option in the table has a key the loader accepts.
  for (const OptionSpec& spec : AllOptions()) {
    EXPECT_EQ(spec.key_path, FlagToKeyPath(spec.flag));
  }
}

TEST(Config, UnknownKeyNamesFileLineAndPathWithSuggestion) {
  absl::Status s = ParseError("web:\n  listen_adress: :1234\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "pantau.yml:2: web.listen_adress: unknown field (did you mean "
            "listen_address?)");
  absl::Status top = ParseError("log:\n  level: info\nwbe: {}\n");
  EXPECT_EQ(top.message(),
            "pantau.yml:3: wbe: unknown field (did you mean web?)");
  absl::Status far = ParseError("storage:\n  zzzzzzzz: 1\n");
  EXPECT_NE(far.message().find("known: exemplars, max_series, "
                               "max_series_per_metric, path, retention"),
            std::string::npos)
      << far.message();
}

TEST(Config, MistypedValuesNameTheKey) {
  absl::Status s = ParseError("storage:\n  retention:\n    time: 15 days\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pantau.yml:3: storage.retention.time: invalid "
                             "duration \"15 days\""),
            std::string::npos)
      << s.message();
  absl::Status list = ParseError("web:\n  listen_address: [a, b]\n");
  EXPECT_NE(list.message().find("pantau.yml:2: web.listen_address: expected a "
                                "single value"),
            std::string::npos)
      << list.message();
  absl::Status section = ParseError("web: 5\n");
  EXPECT_NE(section.message().find("pantau.yml:1: web: expected a mapping"),
            std::string::npos)
      << section.message();
  EXPECT_FALSE(ParseError("log:\n  level: loud\n").ok());
  EXPECT_FALSE(ParseError("web:\n  enable_lifecycle: maybe\n").ok());
  EXPECT_FALSE(ParseError("storage:\n  retention:\n    size: 10XB\n").ok());
}

TEST(Config, InvalidYamlGivesTheLine) {
  absl::Status s = ParseError("web:\n  listen_address: [unclosed\n");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("pantau.yml:"), std::string::npos);
  EXPECT_NE(s.message().find("invalid YAML"), std::string::npos) << s.message();
  EXPECT_FALSE(ParseError("- just\n- a list\n").ok());
}

TEST(Config, UnsupportedPrometheusSectionsSaySo) {
  absl::Status s = ParseError("rule_files: [a.yml]\n");
  EXPECT_NE(s.message().find("rule_files: not supported yet"),
            std::string::npos)
      << s.message();
}

TEST(Config, ParsesByteSizes) {
  EXPECT_EQ(*ParseBytes("0"), 0);
  EXPECT_EQ(*ParseBytes("512MB"), int64_t{512} << 20);
  EXPECT_EQ(*ParseBytes("1GB"), int64_t{1} << 30);
  EXPECT_EQ(*ParseBytes("100B"), 100);
  EXPECT_EQ(*ParseBytes("2kb"), 2048);
  EXPECT_FALSE(ParseBytes("").ok());
  EXPECT_FALSE(ParseBytes("GB").ok());
  EXPECT_FALSE(ParseBytes("1ZB").ok());
  EXPECT_FALSE(ParseBytes("99999999EB").ok());
}

TEST(Resolve, FlagsOverrideTheFileWhichOverridesDefaults) {
  std::string path = ::testing::TempDir() + "/resolve_test.yml";
  {
    std::ofstream f(path);
    f << "web:\n  listen_address: :7000\nlog:\n  level: warn\n";
  }
  auto o = ResolveOptions(path, {{"log.level", "error"}});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->web_listen_address, ":7000");  // from the file
  EXPECT_EQ(o->log_level, "error");           // the flag wins
  EXPECT_EQ(o->storage_path, "./data");       // default
  EXPECT_EQ(o->config_file, path);

  auto bad_flag = ResolveOptions("", {{"storage.retention.time", "forever"}});
  EXPECT_NE(bad_flag.status().message().find("--storage.retention.time"),
            std::string::npos);
  auto missing = ResolveOptions("/nonexistent/pantau.yml", {});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/pantau.yml"),
            std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace pantau::server
