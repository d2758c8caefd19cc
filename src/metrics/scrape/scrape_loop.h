// One target's scrapes: fetch, parse, label, relabel, append, report,
// and staleness, as Prometheus 2.42's scrapeLoop does.
//
// Each ScrapeOnce:
//   - fetches with Accept negotiating OpenMetrics, then text 0.0.4, and
//     Accept-Encoding gzip, within the target's timeout;
//   - attaches the target's labels (honor_labels: scraped labels win;
//     otherwise a clashing scraped label is renamed exported_<name>),
//     then applies metric_relabel_configs;
//   - uses the scrape's timestamp unless honor_timestamps and the line has
//     its own; the scrape's timestamp is snapped to the schedule when it
//     is within `timestamp_tolerance` of it (steadier deltas compress
//     better);
//   - fails as a whole (nothing appended but the report) on a fetch error,
//     a non-200 status, a parse error, or more than sample_limit samples;
//   - appends up, scrape_duration_seconds, scrape_samples_scraped,
//     scrape_samples_post_metric_relabeling and scrape_series_added;
//   - writes a staleness marker (StaleNaN) for each series of the previous
//     successful scrape that is missing now, and for all of them when the
//     scrape fails. Series with explicit timestamps are not tracked, as in
//     Prometheus.
// Stop() writes staleness markers for everything the loop last wrote, for
// a target that has gone away.
//
// Thread safety: ScrapeOnce and Stop must not run concurrently with each
// other (the manager guarantees it); Status() may be called from any
// thread.
#ifndef PANTAU_METRICS_SCRAPE_SCRAPE_LOOP_H_
#define PANTAU_METRICS_SCRAPE_SCRAPE_LOOP_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/labels.h"
#include "base/time.h"
#include "metrics/scrape/config.h"
#include "metrics/scrape/fetcher.h"
#include "metrics/scrape/relabel.h"
#include "metrics/scrape/target.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::scrape {

enum class TargetHealth { kUnknown, kUp, kDown };
std::string_view TargetHealthName(TargetHealth h);  // "unknown", "up", "down"

// What /api/v1/targets shows for an active target.
struct TargetStatus {
  std::string job;
  std::string scrape_url;
  base::Labels labels;             // public labels (no "__" names)
  base::Labels discovered_labels;  // before relabeling
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  absl::Time last_scrape = absl::InfinitePast();
  absl::Duration last_scrape_duration;
  absl::Duration interval;
  absl::Duration timeout;
};

// Totals over all loops, for pantau's own /metrics (Prometheus exports
// the same as prometheus_target_scrapes_*).
// What a target said about one metric family in its HELP, TYPE and UNIT
// lines (as /api/v1/metadata reports it).
struct FamilyMetadata {
  std::string type = "unknown";  // MetricTypeName of the TYPE line
  std::string help;
  std::string unit;
  friend bool operator==(const FamilyMetadata&,
                         const FamilyMetadata&) = default;
};

struct ScrapeCounters {
  std::atomic<uint64_t> scrapes{0};
  std::atomic<uint64_t> failed_scrapes{0};
  std::atomic<uint64_t> exceeded_sample_limit{0};
  std::atomic<uint64_t> samples_appended{0};
  // Samples the store refused; the scrape goes on without them.
  std::atomic<uint64_t> samples_out_of_order{0};
  std::atomic<uint64_t> samples_duplicate{0};
  std::atomic<uint64_t> samples_out_of_bounds{0};
  std::atomic<uint64_t> samples_series_limit{0};
  std::atomic<uint64_t> stale_markers{0};
};

struct ScrapeLoopOptions {
  std::string job;
  bool honor_labels = false;
  bool honor_timestamps = true;
  uint64_t sample_limit = 0;                          // 0: none
  std::shared_ptr<const Relabeler> metric_relabeler;  // may be null
  std::optional<BasicAuth> basic_auth;
  std::optional<Authorization> authorization;
  absl::Duration timestamp_tolerance = absl::Milliseconds(25);
  size_t max_body_bytes = 256 << 20;
  ScrapeCounters* counters = nullptr;  // optional; must outlive the loop
};

class ScrapeLoop {
 public:
  // `storage`, `fetcher` and `clock` must outlive the loop.
  ScrapeLoop(Target target, ScrapeLoopOptions options, Appendable* storage,
             Fetcher* fetcher, base::Clock* clock);

  // Scrapes once; `scheduled` is the time the schedule meant it to start.
  void ScrapeOnce(absl::Time scheduled);

  // Marks every series of the last scrape (and the report series) stale at
  // the clock's current time. The loop must not scrape afterwards.
  void Stop();

  // The start of the first scrape at or after `now`, with the target's
  // offset: scrapes of one target happen at fixed times modulo the
  // interval, spread over it by a hash of the target's labels.
  absl::Time NextScrapeTime(absl::Time now) const;

  TargetStatus Status() const;
  // Metadata of every family the last successful scrape described, by
  // family name.
  std::vector<std::pair<std::string, FamilyMetadata>> Metadata() const;
  const Target& target() const { return target_; }

 private:
  struct CacheEntry {
    base::Labels labels;  // final; empty if dropped by relabeling
    SeriesRef ref = 0;
    uint64_t last_seen = 0;
  };
  struct ScrapeCounts {
    uint64_t scraped = 0;
    uint64_t post_relabel = 0;
    uint64_t added = 0;
    uint64_t appended = 0;
  };

  // Appends the body's samples; error fails the scrape.
  absl::Status AppendBody(Appender* app, std::string_view body,
                          std::string_view content_type, int64_t ts,
                          ScrapeCounts* counts);
  // Labels for a parsed series: target labels attached, then metric
  // relabeling; empty when dropped.
  base::Labels BuildLabels(std::string_view name,
                           const std::vector<base::LabelView>& scraped);
  void AppendStaleMarkers(Appender* app, int64_t ts, bool all);
  void CountSampleError(const absl::Status& s);
  void AppendReport(Appender* app, int64_t ts, bool up, absl::Duration took,
                    const ScrapeCounts& counts);
  absl::StatusOr<FetchRequest> MakeRequest() const;

  Target target_;
  base::Labels public_labels_;
  ScrapeLoopOptions options_;
  Appendable* storage_;
  Fetcher* fetcher_;
  base::Clock* clock_;
  uint64_t offset_seed_;

  uint64_t iteration_ = 0;
  // Series text ("name{a=\"b\"}") -> labels and ref; node map so the
  // staleness pass can hold pointers to entries.
  absl::node_hash_map<std::string, CacheEntry> cache_;
  // Final labels of tracked series -> iteration last seen.
  absl::node_hash_map<base::Labels, uint64_t> seen_;
  std::vector<const base::Labels*> seen_now_;
  bool reported_ = false;
  int64_t last_report_ts_ = 0;

  // Metadata seen in the scrape in progress; swapped into metadata_ when it
  // succeeds (reused, so a scrape does not allocate a new map).
  absl::flat_hash_map<std::string, FamilyMetadata> scrape_metadata_;

  mutable absl::Mutex mu_;
  TargetStatus status_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, FamilyMetadata> metadata_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_SCRAPE_LOOP_H_
