#include "metrics/promql/testing/memory_queryable.h"

#include <algorithm>
#include <set>

namespace pantau::metrics::promql::testing {
namespace {

class VecIterator : public SampleIterator {
 public:
  explicit VecIterator(const std::vector<Sample>* s) : s_(s) {}
  bool Next() override { return ++i_ < static_cast<int64_t>(s_->size()); }
  bool Seek(int64_t t) override {
    if (i_ < 0) i_ = 0;
    while (i_ < static_cast<int64_t>(s_->size()) && (*s_)[i_].t < t) ++i_;
    return i_ < static_cast<int64_t>(s_->size());
  }
  Sample At() const override { return (*s_)[i_]; }

 private:
  const std::vector<Sample>* s_;
  int64_t i_ = -1;
};

class MemSeries : public metrics::Series {
 public:
  MemSeries(const base::Labels* l, const std::vector<Sample>* s)
      : l_(l), s_(s) {}
  const base::Labels& labels() const override { return *l_; }
  std::unique_ptr<SampleIterator> Iterator() const override {
    return std::make_unique<VecIterator>(s_);
  }

 private:
  const base::Labels* l_;
  const std::vector<Sample>* s_;
};

class MemSet : public SeriesSet {
 public:
  MemSet(std::shared_ptr<MemoryQueryable::Data> data,
         std::vector<MemoryQueryable::Data::const_iterator> hits)
      : data_(std::move(data)), hits_(std::move(hits)) {}
  bool Next() override {
    if (++i_ >= static_cast<int64_t>(hits_.size())) return false;
    cur_ = std::make_unique<MemSeries>(&hits_[i_]->first, &hits_[i_]->second);
    return true;
  }
  const metrics::Series& At() const override { return *cur_; }

 private:
  std::shared_ptr<MemoryQueryable::Data> data_;
  std::vector<MemoryQueryable::Data::const_iterator> hits_;
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
  explicit MemQuerier(std::shared_ptr<MemoryQueryable::Data> d)
      : data_(std::move(d)) {}
  std::unique_ptr<SeriesSet> Select(bool, const SelectHints*,
                                    const std::vector<Matcher>& ms) override {
    std::vector<MemoryQueryable::Data::const_iterator> hits;
    for (auto it = data_->begin(); it != data_->end(); ++it) {
      if (MatchesAll(it->first, ms)) hits.push_back(it);
    }
    return std::make_unique<MemSet>(data_, std::move(hits));
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

absl::StatusOr<std::unique_ptr<Querier>> MemoryQueryable::NewQuerier(int64_t,
                                                                     int64_t) {
  absl::MutexLock l(&mu_);
  return std::unique_ptr<Querier>(new MemQuerier(data_));
}

}  // namespace pantau::metrics::promql::testing
