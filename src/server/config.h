// Loads pantau's YAML configuration file. Its shape is Prometheus's
// (global, scrape_configs, rule_files, alerting, storage) extended with a
// key for every command-line flag (see options.h):
//
//   web:
//     listen_address: ":9090"
//   storage:
//     path: ./data
//     retention: {time: 15d, size: 10GB}
//   log: {level: info, format: logfmt}
//
// `global` and `scrape_configs` are decoded by the scrape module
// (metrics/scrape/config.h), as strictly. The loader is strict: an unknown or
// mistyped key, or a value of the wrong type, is an error naming the file, the
// line and the key path,
//   pantau.yml:3: web.listen_adress: unknown field (did you mean
//   listen_address?)
// so a typo never silently falls back to a default.
//
// Thread safety: pure functions.
#ifndef PANTAU_SERVER_CONFIG_H_
#define PANTAU_SERVER_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "server/options.h"

namespace pantau::server {

struct Config {
  Options options;
  // Which options the file set (key paths), so flags can be layered on top
  // and a reload can tell what changed.
  std::vector<std::string> keys_set;
};

// Parses `text` (the contents of `filename`, used in messages) on top of
// `defaults`.
absl::StatusOr<Config> ParseConfig(std::string_view text,
                                   std::string_view filename,
                                   const Options& defaults);

// Reads and parses a file. NOT_FOUND / PERMISSION_DENIED name the file.
absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      const Options& defaults);

}  // namespace pantau::server

#endif  // PANTAU_SERVER_CONFIG_H_
