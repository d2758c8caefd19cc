// DbQuerier: reads the head and every block overlapping [mint, maxt] and
// merges series with equal labels.
#include <algorithm>
#include <set>

#include "metrics/tsdb/block.h"
#include "metrics/tsdb/db.h"

namespace pantau::metrics::tsdb {

class DbQuerier : public Querier {
 public:
  DbQuerier(DB* db, int64_t mint, int64_t maxt,
            std::vector<std::shared_ptr<Block>> blocks)
      : db_(db), mint_(mint), maxt_(maxt), blocks_(std::move(blocks)) {}

  std::unique_ptr<SeriesSet> Select(
      bool sorted, const SelectHints* hints,
      const std::vector<Matcher>& matchers) override {
    // Hints are advisory; the range given to NewQuerier is authoritative.
    auto parts = Collect(matchers, mint_, maxt_);
    if (!parts.ok()) return NewErrorSeriesSet(parts.status());
    // Always sorted: merging needs it, and it is cheap next to decoding.
    return NewMergedSeriesSet(std::move(*parts), mint_, maxt_);
  }

  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& matchers) override {
    std::set<std::string> out;
    if (matchers.empty()) {
      auto add = [&](std::string_view v) { out.emplace(v); };
      db_->head_->postings().ForEachValue(name, add);
      for (const auto& b : blocks_) b->index().ForEachValue(name, add);
    } else {
      auto parts = Collect(matchers, mint_, maxt_);
      if (!parts.ok()) return parts.status();
      for (const auto& p : *parts) {
        std::string_view v = p->labels.Get(name);
        if (!v.empty()) out.emplace(v);
      }
    }
    return std::vector<std::string>(out.begin(), out.end());
  }

  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& matchers) override {
    std::set<std::string> out;
    if (matchers.empty()) {
      for (auto& n : db_->head_->postings().LabelNames()) out.insert(n);
      for (const auto& b : blocks_) {
        for (auto& n : b->index().LabelNames()) out.insert(n);
      }
    } else {
      auto parts = Collect(matchers, mint_, maxt_);
      if (!parts.ok()) return parts.status();
      for (const auto& p : *parts) {
        for (const base::LabelView& lv : p->labels) out.emplace(lv.name);
      }
    }
    return std::vector<std::string>(out.begin(), out.end());
  }

 private:
  absl::StatusOr<std::vector<std::shared_ptr<const ChunkedSeries>>> Collect(
      const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt) {
    if (!matchers.empty() &&
        std::all_of(matchers.begin(), matchers.end(),
                    [](const Matcher& m) { return m.MatchesEmpty(); })) {
      return absl::InvalidArgumentError(
          "at least one matcher must not match the empty string");
    }
    std::vector<std::shared_ptr<const ChunkedSeries>> parts;
    // Head first: on equal timestamps its (newer) data wins.
    if (db_->head_->MaxTime() >= mint && db_->head_->MinTime() <= maxt) {
      auto h = db_->head_->Select(matchers, mint, maxt);
      if (!h.ok()) return h.status();
      parts = std::move(*h);
    }
    for (const auto& b : blocks_) {
      if (b->meta().max_time <= mint || b->meta().min_time > maxt) continue;
      auto p = b->Select(matchers, mint, maxt);
      if (!p.ok()) return p.status();
      for (auto& s : *p) parts.push_back(std::move(s));
    }
    return parts;
  }

  DB* db_;
  int64_t mint_, maxt_;
  std::vector<std::shared_ptr<Block>> blocks_;
};

absl::StatusOr<std::unique_ptr<Querier>> DB::NewQuerier(int64_t mint,
                                                        int64_t maxt) {
  return std::unique_ptr<Querier>(
      new DbQuerier(this, mint, maxt, BlocksSnapshot()));
}

}  // namespace pantau::metrics::tsdb
