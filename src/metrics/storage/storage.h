// The interfaces between the metrics store and everything that writes to it
// (scrape, remote_write, OTLP, rules) or reads from it (PromQL, the HTTP
// API, federation). Nothing outside src/metrics/tsdb sees the TSDB's
// types; a distributed backend can stand behind the same interfaces.
//
// Timestamps are int64 milliseconds since the Unix epoch.
//
// Thread safety: a Queryable/Appendable is safe for concurrent use; each
// Appender, Querier, SeriesSet and SampleIterator it hands out belongs to
// one thread at a time.
#ifndef PANTAU_METRICS_STORAGE_STORAGE_H_
#define PANTAU_METRICS_STORAGE_STORAGE_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/labels.h"
#include "metrics/storage/matcher.h"

namespace pantau::metrics {

// Prometheus's staleness marker: a NaN with this exact bit pattern marks a
// series as gone (scrape target vanished, series dropped). Ordinary NaN
// samples are values like any other.
inline constexpr uint64_t kStaleNaNBits = 0x7ff0000000000002ull;
inline double StaleNaN() {
  double d;
  std::memcpy(&d, &kStaleNaNBits, sizeof d);
  return d;
}
inline bool IsStaleNaN(double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits == kStaleNaNBits;
}

// Opaque, store-assigned id of a series; 0 means "not known yet".
using SeriesRef = uint64_t;

struct Sample {
  int64_t t = 0;
  double v = 0;
};

struct Exemplar {
  base::Labels labels;  // e.g. {trace_id="..."}
  double value = 0;
  int64_t t = 0;
  bool has_timestamp = true;
};

// The exemplars of one series, as exemplar queries return them.
struct ExemplarSeries {
  base::Labels series_labels;
  std::vector<Exemplar> exemplars;  // in time order
};

// Writes a batch. Nothing is visible to queries or durable until Commit();
// Commit returns once the batch is in the WAL (fsynced per the store's
// policy). Errors for single samples (out of order, too old, limits) come
// back from Append with a Status whose message names the reason; the rest
// of the batch is unaffected.
class Appender {
 public:
  virtual ~Appender() = default;
  // `ref` may be 0, or a ref from an earlier Append for the same labels as
  // a fast path. Returns the series' ref.
  virtual absl::StatusOr<SeriesRef> Append(SeriesRef ref,
                                           const base::Labels& labels,
                                           int64_t t, double v) = 0;
  virtual absl::Status AppendExemplar(SeriesRef ref, const base::Labels& labels,
                                      const Exemplar& exemplar) = 0;
  virtual absl::Status Commit() = 0;
  virtual absl::Status Rollback() = 0;
};

class Appendable {
 public:
  virtual ~Appendable() = default;
  virtual std::unique_ptr<Appender> NewAppender() = 0;
};

// Iterates one series' samples in increasing time order.
class SampleIterator {
 public:
  virtual ~SampleIterator() = default;
  // Advances to the next sample; false at the end or on error.
  virtual bool Next() = 0;
  // Advances to the first sample with time >= t (staying put if the current
  // one already is); false if there is none.
  virtual bool Seek(int64_t t) = 0;
  virtual Sample At() const = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
};

class Series {
 public:
  virtual ~Series() = default;
  virtual const base::Labels& labels() const = 0;
  // The iterator owns what it reads: it stays valid after the SeriesSet
  // has moved past this series (the query engine reads series on several
  // threads while the set advances), until its Querier is destroyed.
  virtual std::unique_ptr<SampleIterator> Iterator() const = 0;
};

class SeriesSet {
 public:
  virtual ~SeriesSet() = default;
  virtual bool Next() = 0;
  // Valid after Next() returned true, until the next call to Next().
  virtual const Series& At() const = 0;
  virtual absl::Status status() const { return absl::OkStatus(); }
  // Non-fatal problems to pass on to the client.
  virtual std::vector<std::string> Warnings() const { return {}; }
};

// What the query engine will do with the selected data; a store may use it
// to skip work. Every field is advisory.
struct SelectHints {
  int64_t start = 0;  // ms, inclusive
  int64_t end = 0;    // ms, inclusive
  int64_t step = 0;   // ms; 0 for instant queries
  int64_t range = 0;  // ms; range of a range selector, 0 otherwise
  std::string func;   // the enclosing function, e.g. "rate"
  // Upper bound on the series the caller accepts; 0 means no limit.
  size_t limit = 0;
};

// Reads the data between mint and maxt given when it was opened.
class Querier {
 public:
  virtual ~Querier() = default;
  // Series whose labels match every matcher. `sorted` asks for
  // Labels-order output. `hints` may be null. At least one matcher must not
  // match the empty string (callers check; stores may return an error).
  virtual std::unique_ptr<SeriesSet> Select(
      bool sorted, const SelectHints* hints,
      const std::vector<Matcher>& matchers) = 0;
  // Sorted, unique values of `name` among series matching `matchers`
  // (all series if empty).
  virtual absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& matchers) = 0;
  // Sorted, unique label names among series matching `matchers`.
  virtual absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& matchers) = 0;
};

class Queryable {
 public:
  virtual ~Queryable() = default;
  virtual absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                              int64_t maxt) = 0;
};

// A store that takes writes and answers reads.
class Storage : public Appendable, public Queryable {
 public:
  // Flushes and closes; after Close only destruction is allowed.
  virtual absl::Status Close() = 0;
};

}  // namespace pantau::metrics

#endif  // PANTAU_METRICS_STORAGE_STORAGE_H_
