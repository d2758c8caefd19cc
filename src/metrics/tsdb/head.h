// The head: the in-memory, writable part of the TSDB. Series are keyed by
// their labels (interned through MemPostings), hold completed XOR chunks
// plus one open chunk, and an optional buffer of out-of-order samples.
//
// The head does not know the WAL: the DB's appender logs a batch, then
// applies it here. Series state is guarded by lock stripes chosen by ref;
// lookup by labels uses stripes chosen by label hash (lock order: hash
// stripe, then ref stripe, then MemPostings).
//
// Thread safety: all public methods are safe for concurrent use. A
// MemSeries* handed out is pinned (not garbage-collected) until Unpin.
#ifndef PANTAU_METRICS_TSDB_HEAD_H_
#define PANTAU_METRICS_TSDB_HEAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/labels.h"
#include "metrics/storage/storage.h"
#include "metrics/tsdb/chunk.h"
#include "metrics/tsdb/postings.h"
#include "metrics/tsdb/series_set.h"

namespace pantau::metrics::tsdb {

struct HeadOptions {
  // Chunks never span a multiple of this (ms), so blocks can be cut whole.
  int64_t chunk_range = 2 * 3600 * 1000;
  // Samples up to this far (ms) behind a series' newest sample are
  // accepted; 0 rejects every out-of-order sample.
  int64_t out_of_order_window = 0;
  // Limits on series creation; 0 = unlimited.
  int64_t max_series = 0;
  int64_t max_series_per_metric = 0;
  int stripes = 256;
};

// Why a sample or series was refused; indexes HeadCounters::rejected.
enum class Reject {
  kOutOfOrder = 0,
  kDuplicate,
  kOutOfBounds,
  kSeriesLimit,
  kSeriesLimitPerMetric,
  kCount
};
const char* RejectName(Reject r);

struct HeadCounters {
  std::atomic<uint64_t> samples_appended{0};
  std::atomic<uint64_t> series_created{0};
  std::atomic<uint64_t> series_removed{0};
  std::atomic<uint64_t> rejected[static_cast<int>(Reject::kCount)] = {};
};

struct MemSeries {
  SeriesRef ref = 0;
  uint64_t hash = 0;
  MemSeries* next_same_hash = nullptr;
  std::unique_ptr<uint32_t[]> syms;  // name, value symbol ids
  uint32_t nsyms = 0;
  int32_t pinned = 0;
  std::atomic<bool> logged{false};  // a SERIES record is in the WAL
  std::vector<ChunkData> chunks;    // completed, in time order
  XorChunk open;
  std::unique_ptr<std::vector<Sample>> ooo;  // sorted by t
};

class Head {
 public:
  explicit Head(const HeadOptions& options);
  ~Head();

  // Finds or creates the series and pins it. Creation obeys the limits
  // (RESOURCE_EXHAUSTED naming the limit). *created tells which happened.
  absl::StatusOr<MemSeries*> GetOrCreate(const base::Labels& labels,
                                         bool* created);
  // Finds and pins a series by ref; nullptr if unknown.
  MemSeries* GetByRef(SeriesRef ref);
  void Unpin(MemSeries* s);

  // Whether (t, v) could be appended to s now, given that this appender
  // already holds a pending sample at `pending_max` (INT64_MIN if none).
  absl::Status Check(MemSeries* s, int64_t t, double v, int64_t pending_max);
  // Appends (t, v) to s, re-checking order. Counts rejects.
  absl::Status Apply(MemSeries* s, int64_t t, double v);
  void CountReject(Reject r) {
    counters_.rejected[static_cast<int>(r)].fetch_add(1);
  }

  // Replay: creates the series with a given ref (no limits), or returns the
  // existing one with that ref. Not pinned.
  MemSeries* CreateForReplay(SeriesRef ref, const base::Labels& labels);
  MemSeries* Lookup(SeriesRef ref);  // unpinned; for single-threaded replay
  // Replay of WAL samples, in order, without taking the series' locks: the
  // caller guarantees no other thread reads or writes these series
  // meanwhile (replay hands each series to one thread; nothing else runs).
  // Counts rejects like Apply.
  struct ReplaySample {
    MemSeries* s;
    int64_t t;
    double v;
  };
  void ApplyForReplay(const ReplaySample* samples, size_t n);
  // Replay of a checkpoint: installs chunks and out-of-order samples.
  void LoadChunks(MemSeries* s, std::vector<ChunkData> chunks,
                  std::vector<Sample> ooo);

  base::Labels LabelsOf(const MemSeries* s) const {
    return postings_.Materialize(s->syms.get(), s->nsyms);
  }

  // Copies out the data in [mint, maxt] of every series matching.
  absl::StatusOr<std::vector<std::shared_ptr<const ChunkedSeries>>> Select(
      const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt);
  MemPostings& postings() { return postings_; }

  // Calls fn for every series with a copy of all its data (for checkpoints).
  void ForEachSeries(
      const std::function<void(SeriesRef, const ChunkedSeries&)>& fn);

  // Drops data before mint and series left empty; samples before mint are
  // refused from now on.
  void Truncate(int64_t mint);

  // Samples before t are refused from now on (they belong to blocks).
  void SetMinValidTime(int64_t t) {
    int64_t cur = min_valid_time_.load();
    while (t > cur && !min_valid_time_.compare_exchange_weak(cur, t)) {
    }
  }
  void ResetRejects() {
    for (auto& r : counters_.rejected) r.store(0);
  }
  int64_t MinTime() const { return min_time_.load(); }
  int64_t MaxTime() const { return max_time_.load(); }
  int64_t MinValidTime() const { return min_valid_time_.load(); }
  int64_t NumSeries() const { return num_series_.load(); }
  SeriesRef NextRef() const { return next_ref_.load(); }
  const HeadCounters& counters() const { return counters_; }
  // Approximate heap bytes of the head (series, chunks, index).
  size_t MemoryBytes();

 private:
  struct Stripe {
    absl::Mutex mu;
    absl::flat_hash_map<SeriesRef, std::unique_ptr<MemSeries>> by_ref
        ABSL_GUARDED_BY(mu);
    absl::flat_hash_map<uint64_t, MemSeries*> by_hash ABSL_GUARDED_BY(mu);
  };
  Stripe& RefStripe(SeriesRef ref) { return stripes_[ref % num_stripes_]; }
  Stripe& HashStripe(uint64_t h) {
    return hash_stripes_[(h >> 32) % num_stripes_];
  }
  MemSeries* FindByHashLocked(Stripe& hs, uint64_t hash,
                              const base::Labels& labels);
  MemSeries* InsertLocked(Stripe& hs, SeriesRef ref, const base::Labels& labels,
                          uint64_t hash);
  absl::Status CheckLocked(MemSeries* s, int64_t t, uint64_t bits,
                           int64_t pending_max, bool* ooo);
  void AppendLocked(MemSeries* s, int64_t t, double v, bool ooo);
  // AppendLocked without the head-wide time range and counter updates;
  // false if (t, v) was an identical duplicate and nothing was appended.
  bool AppendSample(MemSeries* s, int64_t t, double v, bool ooo);
  void UpdateTimes(int64_t t);
  void RemoveSeries(SeriesRef ref, uint64_t hash);

  const HeadOptions options_;
  // Separate arrays: a thread may hold a hash stripe while taking a ref
  // stripe, never the reverse.
  std::unique_ptr<Stripe[]> stripes_;
  std::unique_ptr<Stripe[]> hash_stripes_;
  size_t num_stripes_;
  MemPostings postings_;
  std::atomic<SeriesRef> next_ref_{1};
  std::atomic<int64_t> num_series_{0};
  std::atomic<int64_t> min_time_;
  std::atomic<int64_t> max_time_;
  std::atomic<int64_t> min_valid_time_;
  absl::Mutex metric_mu_;
  absl::flat_hash_map<std::string, int64_t> per_metric_
      ABSL_GUARDED_BY(metric_mu_);
  HeadCounters counters_;
};

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_HEAD_H_
