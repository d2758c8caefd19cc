#include "metrics/exemplar/tee_appendable.h"

#include <utility>
#include <vector>

namespace pantau::metrics::exemplar {
namespace {

class TeeAppender : public Appender {
 public:
  TeeAppender(std::unique_ptr<Appender> samples, ExemplarStorage* exemplars)
      : samples_(std::move(samples)), exemplars_(exemplars) {}

  absl::StatusOr<SeriesRef> Append(SeriesRef ref, const base::Labels& labels,
                                   int64_t t, double v) override {
    return samples_->Append(ref, labels, t, v);
  }

  absl::Status AppendExemplar(SeriesRef, const base::Labels& labels,
                              const Exemplar& exemplar) override {
    // Every ingest path passes the series' labels with its exemplar, so no
    // ref -> labels map is kept here (it would cost a copy per sample).
    if (labels.empty()) {
      return absl::InvalidArgumentError(
          "exemplar without the labels of its series");
    }
    labels_.push_back(labels);
    pending_.push_back(exemplar);
    return absl::OkStatus();
  }

  absl::Status Commit() override {
    absl::Status s = samples_->Commit();
    if (s.ok() && !pending_.empty()) {
      std::vector<std::pair<const base::Labels*, Exemplar>> batch;
      batch.reserve(pending_.size());
      for (size_t i = 0; i < pending_.size(); ++i) {
        batch.emplace_back(&labels_[i], std::move(pending_[i]));
      }
      exemplars_->AddBatch(batch);
    }
    labels_.clear();
    pending_.clear();
    return s;
  }

  absl::Status Rollback() override {
    labels_.clear();
    pending_.clear();
    return samples_->Rollback();
  }

 private:
  std::unique_ptr<Appender> samples_;
  ExemplarStorage* exemplars_;
  std::vector<base::Labels> labels_;
  std::vector<Exemplar> pending_;
};

}  // namespace

std::unique_ptr<Appender> TeeAppendable::NewAppender() {
  return std::make_unique<TeeAppender>(samples_->NewAppender(), exemplars_);
}

}  // namespace pantau::metrics::exemplar
