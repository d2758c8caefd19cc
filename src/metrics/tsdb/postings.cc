#include "metrics/tsdb/postings.h"

#include <algorithm>
#include <functional>

#include "base/varint.h"

namespace pantau::metrics::tsdb {

Postings Intersect(const Postings& a, const Postings& b) {
  Postings out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(),
                        std::back_inserter(out));
  return out;
}

Postings Union(const std::vector<Postings>& lists) {
  if (lists.empty()) return {};
  if (lists.size() == 1) return lists[0];
  Postings out;
  for (const Postings& l : lists) out.insert(out.end(), l.begin(), l.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Postings Subtract(const Postings& a, const Postings& b) {
  Postings out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(),
                      std::back_inserter(out));
  return out;
}

namespace {

// Postings of every value of m's label for which m.Matches(value) == want.
Postings ValuesWhere(IndexLookup& index, const Matcher& m, bool want) {
  if (want && m.type() == MatchType::kEqual)
    return index.Get(m.name(), m.value());
  if (want && m.type() == MatchType::kRegexMatch && !m.SetMatches().empty()) {
    std::vector<Postings> lists;
    for (const std::string& v : m.SetMatches()) {
      lists.push_back(index.Get(m.name(), v));
    }
    return Union(lists);
  }
  if (!want && m.type() == MatchType::kNotEqual) {
    return index.Get(m.name(), m.value());
  }
  std::vector<std::string> values;
  index.ForEachValue(m.name(), [&](std::string_view v) {
    if (m.Matches(v) == want) values.emplace_back(v);
  });
  std::vector<Postings> lists;
  lists.reserve(values.size());
  for (const std::string& v : values) lists.push_back(index.Get(m.name(), v));
  return Union(lists);
}

}  // namespace

absl::StatusOr<Postings> SelectPostings(IndexLookup& index,
                                        const std::vector<Matcher>& matchers) {
  // Positive matchers first: they shrink the set fastest.
  bool have = false;
  Postings result;
  for (const Matcher& m : matchers) {
    if (m.MatchesEmpty()) continue;
    Postings p = ValuesWhere(index, m, true);
    result = have ? Intersect(result, p) : std::move(p);
    have = true;
    if (result.empty()) return result;
  }
  if (!have) result = index.All();
  for (const Matcher& m : matchers) {
    if (!m.MatchesEmpty()) continue;
    // Matches "" (so series without the label qualify): drop the series
    // whose value for the label does not match.
    result = Subtract(result, ValuesWhere(index, m, false));
    if (result.empty()) break;
  }
  return result;
}

MemPostings::MemPostings() {
  absl::MutexLock l(&mu_);
  InternLocked("");  // id 0 is the empty string
}

uint32_t MemPostings::InternLocked(std::string_view s) {
  auto it = ids_.find(s);
  if (it != ids_.end()) {
    ++refcount_[it->second];
    return it->second;
  }
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
    strings_[id] = std::make_unique<std::string>(s);
    refcount_[id] = 1;
  } else {
    id = static_cast<uint32_t>(strings_.size());
    strings_.push_back(std::make_unique<std::string>(s));
    refcount_.push_back(1);
  }
  ids_.emplace(*strings_[id], id);
  return id;
}

namespace {

// Refs mostly arrive in increasing order (appends at the end); WAL replay
// may bring them in any order.
void InsertSorted(Postings& p, uint64_t ref) {
  if (p.empty() || p.back() < ref) {
    p.push_back(ref);
    return;
  }
  auto it = std::lower_bound(p.begin(), p.end(), ref);
  if (it == p.end() || *it != ref) p.insert(it, ref);
}

}  // namespace

void MemPostings::Add(uint64_t ref, const base::Labels& labels,
                      uint32_t* syms) {
  absl::MutexLock l(&mu_);
  for (const base::LabelView& lv : labels) {
    const uint32_t n = InternLocked(lv.name);
    const uint32_t v = InternLocked(lv.value);
    *syms++ = n;
    *syms++ = v;
    Postings& list = lists_[Key(n, v)];
    if (list.empty()) values_[n].push_back(v);
    if (bulk_) {
      list.push_back(ref);
    } else {
      InsertSorted(list, ref);
    }
  }
  if (bulk_) {
    all_.push_back(ref);
  } else {
    InsertSorted(all_, ref);
  }
}

void MemPostings::BeginBulkLoad() {
  absl::MutexLock l(&mu_);
  bulk_ = true;
}

void MemPostings::EndBulkLoad() {
  absl::MutexLock l(&mu_);
  if (!bulk_) return;
  bulk_ = false;
  auto fix = [](Postings& p) {
    if (std::adjacent_find(p.begin(), p.end(), std::greater_equal<>()) ==
        p.end()) {
      return;  // already strictly increasing
    }
    std::sort(p.begin(), p.end());
    p.erase(std::unique(p.begin(), p.end()), p.end());
  };
  fix(all_);
  for (auto& [key, list] : lists_) fix(list);
}

void MemPostings::Remove(uint64_t ref, const uint32_t* syms, size_t n) {
  absl::MutexLock l(&mu_);
  auto erase = [ref](Postings& p) {
    auto it = std::lower_bound(p.begin(), p.end(), ref);
    if (it != p.end() && *it == ref) p.erase(it);
  };
  erase(all_);
  for (size_t i = 0; i + 1 < n; i += 2) {
    auto it = lists_.find(Key(syms[i], syms[i + 1]));
    if (it != lists_.end()) {
      erase(it->second);
      if (it->second.empty()) {
        lists_.erase(it);
        auto& vals = values_[syms[i]];
        vals.erase(std::find(vals.begin(), vals.end(), syms[i + 1]));
        if (vals.empty()) values_.erase(syms[i]);
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (--refcount_[syms[i]] == 0 && syms[i] != 0) {
      ids_.erase(*strings_[syms[i]]);
      strings_[syms[i]].reset();
      free_ids_.push_back(syms[i]);
    }
  }
}

base::Labels MemPostings::Materialize(const uint32_t* syms, size_t n) const {
  absl::ReaderMutexLock l(&mu_);
  std::string enc;
  for (size_t i = 0; i < n; ++i) {
    base::PutLengthPrefixed(&enc, *strings_[syms[i]]);
  }
  // The pairs were taken from a valid Labels, so this cannot fail.
  return *base::Labels::FromEncoded(std::move(enc));
}

bool MemPostings::Equal(const uint32_t* syms, size_t n,
                        const base::Labels& labels) const {
  absl::ReaderMutexLock l(&mu_);
  size_t i = 0;
  for (const base::LabelView& lv : labels) {
    if (i + 1 >= n) return false;
    if (*strings_[syms[i]] != lv.name || *strings_[syms[i + 1]] != lv.value) {
      return false;
    }
    i += 2;
  }
  return i == n;
}

void MemPostings::ForEachValue(
    std::string_view name, const std::function<void(std::string_view)>& fn) {
  std::vector<std::string> values;
  {
    absl::ReaderMutexLock l(&mu_);
    auto id = ids_.find(name);
    if (id == ids_.end()) return;
    auto it = values_.find(id->second);
    if (it == values_.end()) return;
    values.reserve(it->second.size());
    for (uint32_t v : it->second) values.push_back(*strings_[v]);
  }
  for (const std::string& v : values) fn(v);
}

Postings MemPostings::Get(std::string_view name, std::string_view value) {
  absl::ReaderMutexLock l(&mu_);
  auto n = ids_.find(name);
  auto v = ids_.find(value);
  if (n == ids_.end() || v == ids_.end()) return {};
  auto it = lists_.find(Key(n->second, v->second));
  return it == lists_.end() ? Postings{} : it->second;
}

Postings MemPostings::All() {
  absl::ReaderMutexLock l(&mu_);
  return all_;
}

std::vector<std::string> MemPostings::LabelNames() {
  absl::ReaderMutexLock l(&mu_);
  std::vector<std::string> out;
  for (const auto& [n, vals] : values_) out.push_back(*strings_[n]);
  std::sort(out.begin(), out.end());
  return out;
}

size_t MemPostings::MemoryBytes() const {
  absl::ReaderMutexLock l(&mu_);
  size_t b = strings_.capacity() * 8 + refcount_.capacity() * 4 +
             ids_.capacity() * 24 + all_.capacity() * 8;
  for (const auto& s : strings_) {
    if (s) b += sizeof(std::string) + (s->capacity() > 15 ? s->capacity() : 0);
  }
  b += lists_.capacity() * (8 + sizeof(Postings));
  for (const auto& [k, p] : lists_) b += p.capacity() * 8;
  b += values_.capacity() * (4 + sizeof(std::vector<uint32_t>));
  for (const auto& [k, v] : values_) b += v.capacity() * 4;
  return b;
}

size_t MemPostings::num_symbols() const {
  absl::ReaderMutexLock l(&mu_);
  return ids_.size();
}

}  // namespace pantau::metrics::tsdb
