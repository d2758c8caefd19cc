// A recording Appendable for tests of scraping and ingestion: it keeps
// every committed sample and exemplar, checks order per series the way the
// TSDB does (with the same status codes), and can be told to fail.
//
// Thread safety: safe for concurrent use (one mutex).
#ifndef PANTAU_METRICS_SCRAPE_FAKE_APPENDABLE_H_
#define PANTAU_METRICS_SCRAPE_FAKE_APPENDABLE_H_

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::testing {

class FakeAppendable : public Appendable {
 public:
  struct Record {
    base::Labels labels;
    int64_t t;
    double v;
  };
  struct ExemplarRecord {
    base::Labels series;
    Exemplar exemplar;
  };

  std::unique_ptr<Appender> NewAppender() override {
    return std::make_unique<FakeAppender>(this);
  }

  // Every committed sample, in commit order.
  std::vector<Record> samples() const {
    absl::MutexLock l(&mu_);
    return samples_;
  }
  std::vector<ExemplarRecord> exemplars() const {
    absl::MutexLock l(&mu_);
    return exemplars_;
  }
  // Committed samples of one series, by its text form {a="b", ...}.
  std::vector<Sample> Series(const base::Labels& labels) const {
    absl::MutexLock l(&mu_);
    std::vector<Sample> out;
    for (const Record& r : samples_) {
      if (r.labels == labels) out.push_back({r.t, r.v});
    }
    return out;
  }
  int commits() const {
    absl::MutexLock l(&mu_);
    return commits_;
  }
  int rollbacks() const {
    absl::MutexLock l(&mu_);
    return rollbacks_;
  }
  void Clear() {
    absl::MutexLock l(&mu_);
    samples_.clear();
    exemplars_.clear();
  }
  // Makes Append (or Commit) return `s` until set back to OK.
  void FailAppends(absl::Status s) {
    absl::MutexLock l(&mu_);
    append_error_ = std::move(s);
  }
  void FailCommits(absl::Status s) {
    absl::MutexLock l(&mu_);
    commit_error_ = std::move(s);
  }

 private:
  class FakeAppender : public Appender {
   public:
    explicit FakeAppender(FakeAppendable* parent) : parent_(parent) {}
    absl::StatusOr<SeriesRef> Append(SeriesRef ref, const base::Labels& labels,
                                     int64_t t, double v) override {
      absl::MutexLock l(&parent_->mu_);
      if (!parent_->append_error_.ok()) return parent_->append_error_;
      if (labels.empty()) {
        return absl::InvalidArgumentError("series without labels");
      }
      // Order against committed and pending samples, as the TSDB checks.
      auto it = parent_->last_.find(labels.data());
      int64_t last = INT64_MIN;
      double last_v = 0;
      if (it != parent_->last_.end()) {
        last = it->second.t;
        last_v = it->second.v;
      }
      auto p = pending_last_.find(labels.data());
      if (p != pending_last_.end() && p->second.t >= last) {
        last = p->second.t;
        last_v = p->second.v;
      }
      if (t == last && !SameBits(v, last_v)) {
        return absl::AlreadyExistsError(
            absl::StrCat("duplicate sample for timestamp ", t));
      }
      if (t < last) {
        return absl::InvalidArgumentError(
            absl::StrCat("out of order sample: timestamp ", t,
                         " is before the series' newest ", last));
      }
      pending_.push_back({labels, t, v});
      pending_last_[labels.data()] = {t, v};
      return ref != 0 ? ref : static_cast<SeriesRef>(labels.Hash() | 1);
    }
    absl::Status AppendExemplar(SeriesRef, const base::Labels& labels,
                                const Exemplar& e) override {
      pending_ex_.push_back({labels, e});
      return absl::OkStatus();
    }
    absl::Status Commit() override {
      absl::MutexLock l(&parent_->mu_);
      if (!parent_->commit_error_.ok()) return parent_->commit_error_;
      for (Record& r : pending_) {
        auto [it, inserted] =
            parent_->last_.try_emplace(r.labels.data(), Sample{r.t, r.v});
        if (!inserted && r.t >= it->second.t) it->second = {r.t, r.v};
        parent_->samples_.push_back(std::move(r));
      }
      for (auto& e : pending_ex_) parent_->exemplars_.push_back(std::move(e));
      pending_.clear();
      pending_ex_.clear();
      pending_last_.clear();
      ++parent_->commits_;
      return absl::OkStatus();
    }
    absl::Status Rollback() override {
      absl::MutexLock l(&parent_->mu_);
      pending_.clear();
      pending_ex_.clear();
      pending_last_.clear();
      ++parent_->rollbacks_;
      return absl::OkStatus();
    }

   private:
    static bool SameBits(double a, double b) {
      return std::memcmp(&a, &b, sizeof a) == 0;
    }
    FakeAppendable* parent_;
    std::vector<Record> pending_;
    std::vector<ExemplarRecord> pending_ex_;
    std::map<std::string, Sample> pending_last_;
  };

  mutable absl::Mutex mu_;
  std::vector<Record> samples_ ABSL_GUARDED_BY(mu_);
  std::vector<ExemplarRecord> exemplars_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Sample> last_ ABSL_GUARDED_BY(mu_);
  absl::Status append_error_ ABSL_GUARDED_BY(mu_);
  absl::Status commit_error_ ABSL_GUARDED_BY(mu_);
  int commits_ ABSL_GUARDED_BY(mu_) = 0;
  int rollbacks_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace pantau::metrics::testing

#endif  // PANTAU_METRICS_SCRAPE_FAKE_APPENDABLE_H_
