// DbAppender: buffers a batch, logs it to the WAL on Commit (one write,
// group-committed with concurrent commits), then applies it to the head.
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "metrics/tsdb/db.h"
#include "metrics/tsdb/records.h"

namespace pantau::metrics::tsdb {

class DbAppender : public Appender {
 public:
  explicit DbAppender(DB* db) : db_(db), head_(db->head_.get()) {}
  ~DbAppender() override { Release(); }

  absl::StatusOr<SeriesRef> Append(SeriesRef ref, const base::Labels& labels,
                                   int64_t t, double v) override {
    MemSeries* s = nullptr;
    if (ref != 0) {
      if (auto it = series_.find(ref); it != series_.end()) {
        s = it->second.series;
      } else if ((s = head_->GetByRef(ref)) != nullptr) {
        series_.emplace(ref, Entry{s, kNone});
      }
    }
    if (s == nullptr) {
      if (labels.empty()) {
        return absl::InvalidArgumentError(
            "append without labels for an unknown series ref");
      }
      bool created;
      auto r = head_->GetOrCreate(labels, &created);
      if (!r.ok()) return r.status();
      s = *r;
      auto [it, inserted] = series_.emplace(s->ref, Entry{s, kNone});
      if (!inserted) head_->Unpin(s);  // already pinned by this appender
    }
    Entry& e = series_[s->ref];
    absl::Status st = head_->Check(s, t, v, e.pending_max);
    if (!st.ok()) {
      head_->CountReject(absl::IsAlreadyExists(st) ? Reject::kDuplicate
                         : absl::IsOutOfRange(st)  ? Reject::kOutOfBounds
                                                   : Reject::kOutOfOrder);
      return st;
    }
    if (t > e.pending_max) e.pending_max = t;
    samples_.push_back({s->ref, t, v});
    return s->ref;
  }

  absl::Status AppendExemplar(SeriesRef ref, const base::Labels& labels,
                              const Exemplar& exemplar) override {
    // Exemplars are accepted and counted; the storage interface has no way
    // to query them yet, so they are not stored.
    absl::MutexLock l(&db_->stats_mu_);
    ++db_->stats_.exemplars_received;
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    if (samples_.empty()) {
      Release();
      return absl::OkStatus();
    }
    std::string records;
    std::vector<std::pair<SeriesRef, const base::Labels*>> new_series;
    std::vector<base::Labels> labels_store;
    std::vector<MemSeries*> to_mark;
    labels_store.reserve(series_.size());
    for (auto& [ref, e] : series_) {
      if (!e.series->logged.load(std::memory_order_acquire)) {
        labels_store.push_back(head_->LabelsOf(e.series));
        to_mark.push_back(e.series);
      }
    }
    for (size_t i = 0; i < to_mark.size(); ++i) {
      new_series.emplace_back(to_mark[i]->ref, &labels_store[i]);
    }
    if (!new_series.empty()) {
      for (size_t i = 0; i < new_series.size(); i += kPerRecord) {
        std::vector<std::pair<SeriesRef, const base::Labels*>> part(
            new_series.begin() + i,
            new_series.begin() + std::min(new_series.size(), i + kPerRecord));
        AppendRecord(&records, WalRecordType::kSeries, EncodeSeries(part));
      }
    }
    // Bounded records: replay refuses records over kMaxWalRecordSize.
    for (size_t i = 0; i < samples_.size(); i += kPerRecord) {
      std::vector<RefSample> part(
          samples_.begin() + i,
          samples_.begin() + std::min(samples_.size(), i + kPerRecord));
      AppendRecord(&records, WalRecordType::kSamples, EncodeSamples(part));
    }
    absl::Status st;
    {
      absl::ReaderMutexLock l(&db_->apply_mu_);
      // A block may have been cut since Append checked these samples; the
      // head would drop them after they were acknowledged, so refuse the
      // whole batch before anything reaches the WAL.
      const int64_t min_valid = head_->MinValidTime();
      size_t too_old = 0;
      for (const RefSample& rs : samples_) too_old += rs.t < min_valid;
      if (too_old > 0) {
        for (size_t i = 0; i < too_old; ++i) {
          head_->CountReject(Reject::kOutOfBounds);
        }
        st = absl::OutOfRangeError(absl::StrCat(
            "commit refused: ", too_old,
            " samples are older than the head after a block was cut "
            "(min valid time ",
            min_valid, "); nothing was written"));
      } else {
        st = db_->wal_->Log(records);
      }
      if (st.ok()) {
        for (MemSeries* s : to_mark) s->logged.store(true);
        for (const RefSample& rs : samples_) {
          // Errors here (a concurrent appender got ahead) are counted.
          (void)head_->Apply(series_[rs.ref].series, rs.t, rs.v);
        }
      }
    }
    {
      absl::MutexLock l(&db_->stats_mu_);
      ++db_->stats_.commits;
      if (!st.ok()) ++db_->stats_.commit_failures;
    }
    Release();
    return st;
  }

  absl::Status Rollback() override {
    Release();
    return absl::OkStatus();
  }

 private:
  static constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
  // At most ~20 bytes per sample or ~1 KiB per series label set keeps a
  // record far below kMaxWalRecordSize.
  static constexpr size_t kPerRecord = 8192;
  struct Entry {
    MemSeries* series;
    int64_t pending_max;
  };

  void Release() {
    for (auto& [ref, e] : series_) head_->Unpin(e.series);
    series_.clear();
    samples_.clear();
  }

  DB* db_;
  Head* head_;
  absl::flat_hash_map<SeriesRef, Entry> series_;
  std::vector<RefSample> samples_;
};

std::unique_ptr<Appender> DB::NewAppender() {
  return std::make_unique<DbAppender>(this);
}

}  // namespace pantau::metrics::tsdb
