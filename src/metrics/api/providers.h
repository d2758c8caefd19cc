// Small interfaces through which the Prometheus API reads state that lives
// outside the storage: scrape targets, metric metadata, exemplars and the
// TSDB's cardinality statistics. The server implements them over the scrape
// manager and the TSDB, so this module depends on neither.
//
// Thread safety: implementations must be safe for concurrent calls (API
// handlers run on a pool).
#ifndef PANTAU_METRICS_API_PROVIDERS_H_
#define PANTAU_METRICS_API_PROVIDERS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/labels.h"
#include "metrics/storage/matcher.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::api {

// One active scrape target, as /api/v1/targets shows it.
struct TargetInfo {
  std::string scrape_pool;  // the job
  std::string scrape_url;
  std::string global_url;          // defaults to scrape_url when empty
  base::Labels labels;             // after relabeling
  base::Labels discovered_labels;  // before relabeling
  std::string health = "unknown";  // "up", "down" or "unknown"
  std::string last_error;
  absl::Time last_scrape = absl::InfinitePast();  // InfinitePast: never
  absl::Duration last_scrape_duration;
  absl::Duration scrape_interval;
  absl::Duration scrape_timeout;
};

struct DroppedTargetInfo {
  base::Labels discovered_labels;
};

class TargetsProvider {
 public:
  virtual ~TargetsProvider() = default;
  virtual std::vector<TargetInfo> ActiveTargets() const = 0;
  virtual std::vector<DroppedTargetInfo> DroppedTargets() const = 0;
};

// Metadata of one metric family as a target exposed it.
struct MetricMetadata {
  std::string metric;  // family name, e.g. "http_requests_total"
  std::string type;    // "counter", "gauge", "histogram", "summary", ...
  std::string help;
  std::string unit;
};

class MetadataProvider {
 public:
  virtual ~MetadataProvider() = default;
  // Metadata of `metric`, or of every metric when it is empty. Entries may
  // repeat across targets; the API removes duplicates.
  virtual std::vector<MetricMetadata> Metadata(
      std::string_view metric) const = 0;
};

class ExemplarQueryable {
 public:
  virtual ~ExemplarQueryable() = default;
  // Exemplars in [start_ms, end_ms] of series matching any matcher set.
  virtual absl::StatusOr<std::vector<ExemplarSeries>> SelectExemplars(
      int64_t start_ms, int64_t end_ms,
      const std::vector<std::vector<Matcher>>& matcher_sets) = 0;
};

// /api/v1/status/tsdb.
struct TsdbStat {
  std::string name;
  uint64_t value = 0;
};

struct TsdbStatus {
  uint64_t num_series = 0;
  int64_t num_label_pairs = 0;
  int64_t chunk_count = 0;
  int64_t min_time = 0;  // ms
  int64_t max_time = 0;  // ms
  // Each list sorted by value, descending, at most `limit` long.
  std::vector<TsdbStat> series_count_by_metric_name;
  std::vector<TsdbStat> label_value_count_by_label_name;
  std::vector<TsdbStat> memory_in_bytes_by_label_name;
  std::vector<TsdbStat> series_count_by_label_value_pair;
};

class TsdbStatsProvider {
 public:
  virtual ~TsdbStatsProvider() = default;
  // The head's statistics with each top list cut to `limit` entries.
  virtual absl::StatusOr<TsdbStatus> Stats(size_t limit) = 0;
};

// A fallback for stores without their own statistics: computes them from a
// Queryable by selecting every series in [now - window, now]. Costs a scan
// of all series labels per call.
absl::StatusOr<TsdbStatus> ComputeTsdbStatus(Queryable& queryable,
                                             int64_t mint_ms, int64_t maxt_ms,
                                             size_t limit);

}  // namespace pantau::metrics::api

#endif  // PANTAU_METRICS_API_PROVIDERS_H_
