// The `global:` scrape defaults and `scrape_configs:` of a Prometheus-style
// configuration file, decoded strictly from YAML: an unknown or misspelled
// key or a value of the wrong type is an error that names the file, the
// line and the key path, e.g.
//
//   config.yml:12: scrape_configs[0].scrape_intervall: unknown field
//
// Defaults and validation follow Prometheus 2.42 (scrape_interval 1m,
// scrape_timeout 10s capped at the interval, metrics_path /metrics, scheme
// http, honor_timestamps true, file_sd refresh_interval 5m, ...). Relative
// file paths (file_sd files, password_file, bearer_token_file,
// credentials_file) are resolved against the config file's directory.
//
// The server's config loader parses the whole file and hands the root node
// here; keys this module does not own (rule_files, alerting, ...) are left
// to it.
//
// Thread safety: plain data and pure functions.
#ifndef PANTAU_METRICS_SCRAPE_CONFIG_H_
#define PANTAU_METRICS_SCRAPE_CONFIG_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/labels.h"
#include "metrics/scrape/relabel.h"

namespace YAML {
class Node;
}

namespace pantau::metrics::scrape {

struct BasicAuth {
  std::string username;
  std::string password;
  std::string password_file;  // read at each scrape; absolute path
};

// `authorization:`, or `bearer_token`/`bearer_token_file` (turned into
// type "Bearer" as Prometheus does).
struct Authorization {
  std::string type = "Bearer";
  std::string credentials;
  std::string credentials_file;  // absolute path
};

// A list of targets with common labels: one `static_configs` entry, or one
// entry of a file_sd file.
struct TargetGroup {
  std::vector<std::string> targets;  // host:port
  base::Labels labels;
  // Where it came from, e.g. "static/0" or "/etc/sd/a.json:1"; for
  // diagnostics and to replace a file's groups when it changes.
  std::string source;
};

struct FileSdConfig {
  std::vector<std::string> files;  // absolute paths or globs
  absl::Duration refresh_interval = absl::Minutes(5);
};

struct GlobalConfig {
  absl::Duration scrape_interval = absl::Minutes(1);
  absl::Duration scrape_timeout = absl::Seconds(10);
  // Added to samples only when they leave (remote write, alerts,
  // federation); the scraper does not attach them.
  base::Labels external_labels;
};

struct ScrapeConfig {
  std::string job_name;            // required, unique
  absl::Duration scrape_interval;  // default: global
  absl::Duration scrape_timeout;   // default: global, capped at interval
  std::string metrics_path = "/metrics";
  std::string scheme = "http";  // http or https
  std::map<std::string, std::vector<std::string>> params;
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::vector<TargetGroup> static_configs;
  std::vector<FileSdConfig> file_sd_configs;
  std::vector<RelabelConfig> relabel_configs;
  std::vector<RelabelConfig> metric_relabel_configs;
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  uint64_t sample_limit = 0;  // 0: no limit
};

struct ScrapeSettings {
  GlobalConfig global;
  std::vector<ScrapeConfig> scrape_configs;
};

// Decodes `global` and `scrape_configs` from `root` (a whole config file;
// a null or empty root gives the defaults). `filename` is used in error
// messages and to resolve relative paths.
absl::StatusOr<ScrapeSettings> ParseScrapeConfigs(const YAML::Node& root,
                                                  std::string_view filename);

// Convenience for tests and tools: parses YAML text, then the above.
absl::StatusOr<ScrapeSettings> ParseScrapeConfigsText(
    std::string_view yaml, std::string_view filename);

// Decodes the target groups of a file_sd file: a JSON or YAML list of
// {targets: [...], labels: {...}}. `filename` prefixes error messages and
// names each group's source.
absl::StatusOr<std::vector<TargetGroup>> ParseTargetGroups(
    std::string_view content, std::string_view filename);

// Prometheus's check on a target address: no "/" (a URL was given where a
// host:port was expected).
absl::Status CheckTargetAddress(std::string_view address);

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_CONFIG_H_
