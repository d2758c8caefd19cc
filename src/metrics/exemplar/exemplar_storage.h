// Exemplar storage: the exemplars of every series in one bounded circular
// buffer, as Prometheus keeps them, so a metric sample can point at a trace.
//
// Why a ring and not the TSDB: exemplars are sparse, bounded by count rather
// than time, and only ever read back for a series over a time range
// (/api/v1/query_exemplars), so the newest `capacity` exemplars over all
// series are kept and the oldest is overwritten. Each series links its own
// exemplars through the ring in time order, so a query walks only the
// entries of the series it matches.
//
// Durability: when opened with a directory, every accepted exemplar is
// appended to a checksummed log (exemplar_log.h) before Add returns, and
// the log is replayed on open; a torn or corrupt tail is cut with a log
// line. The log is rewritten from the ring whenever it holds more than
// twice the capacity, so its size stays bounded.
//
// Thread safety: all methods may be called concurrently.
#ifndef PANTAU_METRICS_EXEMPLAR_EXEMPLAR_STORAGE_H_
#define PANTAU_METRICS_EXEMPLAR_EXEMPLAR_STORAGE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/labels.h"
#include "metrics/storage/matcher.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::exemplar {

class ExemplarLog;

// OpenMetrics: an exemplar's label names and values together hold at most
// 128 UTF-8 characters.
inline constexpr size_t kMaxExemplarLabelRunes = 128;

struct ExemplarStats {
  int64_t capacity = 0;
  int64_t stored = 0;         // exemplars in the ring now
  int64_t series = 0;         // series with at least one stored exemplar
  uint64_t appended = 0;      // accepted since start
  uint64_t out_of_order = 0;  // rejected: not newer than the series' newest
  uint64_t invalid = 0;       // rejected: label set too long or empty series
  uint64_t log_errors = 0;    // failed log writes (exemplar kept in memory)
};

class ExemplarStorage {
 public:
  // An in-memory store of at most `capacity` exemplars (0 keeps none).
  explicit ExemplarStorage(int64_t capacity);
  // A store persisted in `dir` (created if missing), replaying its log.
  static absl::StatusOr<std::unique_ptr<ExemplarStorage>> Open(
      const std::string& dir, int64_t capacity);
  ~ExemplarStorage();

  ExemplarStorage(const ExemplarStorage&) = delete;
  ExemplarStorage& operator=(const ExemplarStorage&) = delete;

  // Adds one exemplar of the series `series`. Errors:
  //   ALREADY_EXISTS     the same exemplar as the series' newest (a resent
  //                      scrape or request); harmless, nothing changes
  //   OUT_OF_RANGE       older than (or as old as) the series' newest
  //   INVALID_ARGUMENT   label set over 128 characters, or empty series
  //   FAILED_PRECONDITION capacity is 0 (exemplar storage disabled)
  absl::Status Add(const base::Labels& series, const Exemplar& e);
  // Adds many, logging the accepted ones with one write. Returns how many
  // were stored; per-exemplar errors are only counted.
  size_t AddBatch(
      const std::vector<std::pair<const base::Labels*, Exemplar>>& batch);

  // Exemplars with start_ms <= t <= end_ms of every series that matches all
  // matchers of at least one set; series sorted by labels.
  std::vector<ExemplarSeries> Select(
      int64_t start_ms, int64_t end_ms,
      const std::vector<std::vector<Matcher>>& matcher_sets) const;

  // Changes the capacity, keeping the newest exemplars that fit.
  absl::Status Resize(int64_t capacity);

  ExemplarStats Stats() const;

 private:
  struct Entry {
    Exemplar exemplar;
    int32_t series = -1;  // index into series_, -1 when the slot is free
    int64_t next = -1;    // next (newer) entry of the same series
  };
  struct SeriesIndex {
    base::Labels labels;
    int64_t oldest = -1;
    int64_t newest = -1;
  };

  // Validates and stores; on success appends the log record to *log_buf.
  absl::Status AddLocked(const base::Labels& series, const Exemplar& e,
                         std::string* log_buf)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictLocked(int64_t slot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `records` to the log, rewriting it when it has grown too long.
  void WriteLogLocked(const std::string& records, size_t count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Every stored exemplar with its series, oldest first.
  std::vector<std::pair<base::Labels, Exemplar>> SnapshotLocked() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RebuildLocked(int64_t capacity,
                     std::vector<std::pair<base::Labels, Exemplar>> items)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::vector<Entry> ring_ ABSL_GUARDED_BY(mu_);
  int64_t next_slot_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<SeriesIndex> series_ ABSL_GUARDED_BY(mu_);
  std::vector<int32_t> free_series_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<base::Labels, int32_t> by_labels_ ABSL_GUARDED_BY(mu_);
  ExemplarStats stats_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<ExemplarLog> log_ ABSL_GUARDED_BY(mu_);
};

}  // namespace pantau::metrics::exemplar

#endif  // PANTAU_METRICS_EXEMPLAR_EXEMPLAR_STORAGE_H_
