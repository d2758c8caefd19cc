#include "metrics/promql/testing/memory_queryable.h"

#include <algorithm>
#include <set>

namespace pantau::metrics::promql::testing {
namespace {

// Iterates the samples of [begin, end), the part of a series inside the
// querier's time range.
class VecIterator : public SampleIterator {
 public:
  VecIterator(const Sample* begin, const Sample* end)
      : cur_(begin - 1), begin_(begin), end_(end) {}
  bool Next() override { return ++cur_ < end_; }
  bool Seek(int64_t t) override {
    if (cur_ < begin_) cur_ = begin_;
    while (cur_ < end_ && cur_->t < t) ++cur_;
    return cur_ < end_;
  }
  Sample At() const override { return *cur_; }

 private:
  const Sample* cur_;
  const Sample* begin_;
  const Sample* end_;
};

// The samples of `s` within [mint, maxt].
std::pair<const Sample*, const Sample*> Clip(const std::vector<Sample>& s,
                                             int64_t mint, int64_t maxt) {
  auto lo =
      std::lower_bound(s.begin(), s.end(), mint,
                       [](const Sample& a, int64_t t) { return a.t < t; });
  auto hi = std::upper_bound(
      lo, s.end(), maxt, [](int64_t t, const Sample& a) { return t < a.t; });
  return {s.data() + (lo - s.begin()), s.data() + (hi - s.begin())};
}

class MemSeries : public metrics::Series {
 public:
  MemSeries(const base::Labels* l, std::pair<const Sample*, const Sample*> s)
      : l_(l), s_(s) {}
  const base::Labels& labels() const override { return *l_; }
  std::unique_ptr<SampleIterator> Iterator() const override {
    return std::make_unique<VecIterator>(s_.first, s_.second);
  }

 private:
  const base::Labels* l_;
  std::pair<const Sample*, const Sample*> s_;
};

class MemSet : public SeriesSet {
 public:
  MemSet(std::shared_ptr<MemoryQueryable::Data> data,
         std::vector<MemoryQueryable::Data::const_iterator> hits, int64_t mint,
         int64_t maxt)
      : data_(std::move(data)),
        hits_(std::move(hits)),
        mint_(mint),
        maxt_(maxt) {}
  bool Next() override {
    // Like a TSDB, only series with samples in the querier's range.
    while (++i_ < static_cast<int64_t>(hits_.size())) {
      auto clip = Clip(hits_[i_]->second, mint_, maxt_);
      if (clip.first == clip.second) continue;
      cur_ = std::make_unique<MemSeries>(&hits_[i_]->first, clip);
      return true;
    }
    return false;
  }
  const metrics::Series& At() const override { return *cur_; }

 private:
  std::shared_ptr<MemoryQueryable::Data> data_;
  std::vector<MemoryQueryable::Data::const_iterator> hits_;
  int64_t mint_, maxt_;
  int64_t i_ = -1;
  std::unique_ptr<MemSeries> cur_;
};

bool MatchesAll(const base::Labels& l, const std::vector<Matcher>& ms) {
  for (const Matcher& m : ms) {
    if (!m.Matches(l)) return false;
  }
  return true;
}

class MemQuerier : public Querier {
 public:
  MemQuerier(std::shared_ptr<MemoryQueryable::Data> d, int64_t mint,
             int64_t maxt)
      : data_(std::move(d)), mint_(mint), maxt_(maxt) {}
  std::unique_ptr<SeriesSet> Select(bool, const SelectHints*,
                                    const std::vector<Matcher>& ms) override {
    std::vector<MemoryQueryable::Data::const_iterator> hits;
    for (auto it = data_->begin(); it != data_->end(); ++it) {
      if (MatchesAll(it->first, ms)) hits.push_back(it);
    }
    return std::make_unique<MemSet>(data_, std::move(hits), mint_, maxt_);
  }
  absl::StatusOr<std::vector<std::string>> LabelValues(
      std::string_view name, const std::vector<Matcher>& ms) override {
    std::set<std::string> out;
    for (const auto& [l, s] : *data_) {
      if (!MatchesAll(l, ms)) continue;
      std::string_view v = l.Get(name);
      if (!v.empty()) out.emplace(v);
    }
    return std::vector<std::string>(out.begin(), out.end());
  }
  absl::StatusOr<std::vector<std::string>> LabelNames(
      const std::vector<Matcher>& ms) override {
    std::set<std::string> out;
    for (const auto& [l, s] : *data_) {
      if (!MatchesAll(l, ms)) continue;
      for (const auto& lv : l) out.emplace(lv.name);
    }
    return std::vector<std::string>(out.begin(), out.end());
  }

 private:
  std::shared_ptr<MemoryQueryable::Data> data_;
  int64_t mint_, maxt_;
};

}  // namespace

void MemoryQueryable::Add(const base::Labels& labels, int64_t t, double v) {
  absl::MutexLock l(&mu_);
  if (data_.use_count() > 1) data_ = std::make_shared<Data>(*data_);
  auto& s = (*data_)[labels];
  if (!s.empty() && s.back().t == t) {
    s.back().v = v;
    return;
  }
  s.push_back(Sample{t, v});
  if (s.size() > 1 && s[s.size() - 2].t > t) {
    std::sort(s.begin(), s.end(),
              [](const Sample& a, const Sample& b) { return a.t < b.t; });
  }
}

void MemoryQueryable::Clear() {
  absl::MutexLock l(&mu_);
  data_ = std::make_shared<Data>();
}

size_t MemoryQueryable::NumSeries() const {
  absl::MutexLock l(&mu_);
  return data_->size();
}

absl::StatusOr<std::unique_ptr<Querier>> MemoryQueryable::NewQuerier(
    int64_t mint, int64_t maxt) {
  absl::MutexLock l(&mu_);
  return std::unique_ptr<Querier>(new MemQuerier(data_, mint, maxt));
}

}  // namespace pantau::metrics::promql::testing
