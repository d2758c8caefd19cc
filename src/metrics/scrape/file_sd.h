// File-based service discovery (`file_sd_configs`): target groups read
// from JSON or YAML files matched by globs, re-read when a file changes
// (checked cheaply by size and mtime on every Poll) and at least every
// refresh_interval. A file that fails to parse keeps its previous groups
// and logs the error, as in Prometheus; a deleted file drops its groups.
//
// Thread safety: not thread-safe; the manager polls under its lock.
#ifndef PANTAU_METRICS_SCRAPE_FILE_SD_H_
#define PANTAU_METRICS_SCRAPE_FILE_SD_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "metrics/scrape/config.h"

namespace pantau::metrics::scrape {

class FileSd {
 public:
  explicit FileSd(FileSdConfig config) : config_(std::move(config)) {}

  // Re-reads changed files (all files when `now` is past the refresh
  // deadline). Returns true when the groups changed.
  bool Poll(absl::Time now);

  // The current groups, with __meta_filepath set as Prometheus does.
  std::vector<TargetGroup> Groups() const;

  const FileSdConfig& config() const { return config_; }

 private:
  struct FileState {
    int64_t mtime_ns = 0;
    int64_t size = -1;
    std::vector<TargetGroup> groups;
  };
  FileSdConfig config_;
  std::map<std::string, FileState> files_;
  absl::Time next_refresh_ = absl::InfinitePast();
};

// Expands a glob pattern to the sorted list of matching files.
std::vector<std::string> ExpandGlob(const std::string& pattern);

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_FILE_SD_H_
