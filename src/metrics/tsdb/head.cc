#include "metrics/tsdb/head.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "metrics/tsdb/format.h"

namespace pantau::metrics::tsdb {
namespace {

constexpr int64_t kMinT = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxT = std::numeric_limits<int64_t>::max();

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

const char* RejectName(Reject r) {
  switch (r) {
    case Reject::kOutOfOrder:
      return "out_of_order";
    case Reject::kDuplicate:
      return "duplicate";
    case Reject::kOutOfBounds:
      return "out_of_bounds";
    case Reject::kSeriesLimit:
      return "series_limit";
    case Reject::kSeriesLimitPerMetric:
      return "series_limit_per_metric";
    case Reject::kCount:
      break;
  }
  return "unknown";
}

Head::Head(const HeadOptions& options)
    : options_(options),
      stripes_(new Stripe[std::max(1, options.stripes)]),
      hash_stripes_(new Stripe[std::max(1, options.stripes)]),
      num_stripes_(static_cast<size_t>(std::max(1, options.stripes))),
      min_time_(kMaxT),
      max_time_(kMinT),
      min_valid_time_(kMinT) {}

Head::~Head() = default;

MemSeries* Head::FindByHashLocked(Stripe& hs, uint64_t hash,
                                  const base::Labels& labels) {
  auto it = hs.by_hash.find(hash);
  if (it == hs.by_hash.end()) return nullptr;
  for (MemSeries* s = it->second; s != nullptr; s = s->next_same_hash) {
    if (postings_.Equal(s->syms.get(), s->nsyms, labels)) return s;
  }
  return nullptr;
}

MemSeries* Head::InsertLocked(Stripe& hs, SeriesRef ref,
                              const base::Labels& labels, uint64_t hash) {
  auto owned = std::make_unique<MemSeries>();
  MemSeries* s = owned.get();
  s->ref = ref;
  s->hash = hash;
  const size_t pairs = labels.size();
  s->nsyms = static_cast<uint32_t>(2 * pairs);
  s->syms.reset(new uint32_t[2 * pairs]);
  postings_.Add(ref, labels, s->syms.get());
  {
    Stripe& rs = RefStripe(ref);
    absl::MutexLock l(&rs.mu);
    rs.by_ref.emplace(ref, std::move(owned));
  }
  auto [it, inserted] = hs.by_hash.emplace(hash, s);
  if (!inserted) {
    s->next_same_hash = it->second;
    it->second = s;
  }
  num_series_.fetch_add(1);
  counters_.series_created.fetch_add(1);
  // Counted only when limited: a global lock and a string per new series
  // are a large part of creating one (and of loading a head snapshot).
  if (options_.max_series_per_metric > 0) {
    absl::MutexLock l(&metric_mu_);
    ++per_metric_[std::string(labels.Get(base::kMetricName))];
  }
  return s;
}

absl::StatusOr<MemSeries*> Head::GetOrCreate(const base::Labels& labels,
                                             bool* created) {
  const uint64_t hash = labels.Hash();
  Stripe& hs = HashStripe(hash);
  absl::MutexLock l(&hs.mu);
  MemSeries* s = FindByHashLocked(hs, hash, labels);
  *created = false;
  if (s == nullptr) {
    if (labels.empty()) {
      return absl::InvalidArgumentError("series without labels");
    }
    if (options_.max_series > 0 && num_series_.load() >= options_.max_series) {
      CountReject(Reject::kSeriesLimit);
      return absl::ResourceExhaustedError(absl::StrCat(
          "series limit reached: ", options_.max_series,
          " active series; new series ", labels.ToString(), " rejected"));
    }
    if (options_.max_series_per_metric > 0) {
      absl::MutexLock ml(&metric_mu_);
      auto it = per_metric_.find(std::string(labels.Get(base::kMetricName)));
      if (it != per_metric_.end() &&
          it->second >= options_.max_series_per_metric) {
        CountReject(Reject::kSeriesLimitPerMetric);
        return absl::ResourceExhaustedError(absl::StrCat(
            "per-metric series limit reached: ", it->second, " series of ",
            std::string(labels.Get(base::kMetricName)), "; new series ",
            labels.ToString(), " rejected"));
      }
    }
    s = InsertLocked(hs, next_ref_.fetch_add(1), labels, hash);
    *created = true;
  }
  Stripe& rs = RefStripe(s->ref);
  absl::MutexLock rl(&rs.mu);
  ++s->pinned;
  return s;
}

MemSeries* Head::GetByRef(SeriesRef ref) {
  Stripe& rs = RefStripe(ref);
  absl::MutexLock l(&rs.mu);
  auto it = rs.by_ref.find(ref);
  if (it == rs.by_ref.end()) return nullptr;
  ++it->second->pinned;
  return it->second.get();
}

void Head::Unpin(MemSeries* s) {
  Stripe& rs = RefStripe(s->ref);
  absl::MutexLock l(&rs.mu);
  --s->pinned;
}

absl::Status Head::CheckLocked(MemSeries* s, int64_t t, uint64_t bits,
                               int64_t pending_max, bool* ooo) {
  *ooo = false;
  if (t < min_valid_time_.load()) {
    return absl::OutOfRangeError(
        absl::StrCat("out of bounds: sample at ", t,
                     " is older than the head (min valid time ",
                     min_valid_time_.load(), ")"));
  }
  const bool has_samples = !s->open.empty() || !s->chunks.empty();
  if (!has_samples && pending_max == kMinT) return absl::OkStatus();
  int64_t maxt = kMinT;
  uint64_t last_bits = 0;
  if (!s->open.empty()) {
    maxt = s->open.max_time();
  } else if (!s->chunks.empty()) {
    maxt = s->chunks.back().maxt;
  }
  if (has_samples && t == maxt) {
    // Compare with the newest sample's bits.
    if (!s->open.empty()) {
      last_bits = s->open.last_value_bits();
    } else {
      XorIterator it(s->chunks.back().bytes);
      while (it.Next()) last_bits = it.v_bits();
    }
    if (last_bits == bits) return absl::OkStatus();  // same sample again
    return absl::AlreadyExistsError(absl::StrCat(
        "duplicate sample for timestamp ", t, " with a different value"));
  }
  const int64_t newest = std::max(maxt, pending_max);
  if (t > newest) return absl::OkStatus();
  if (t == pending_max) {
    return absl::AlreadyExistsError(absl::StrCat(
        "duplicate sample for timestamp ", t, " in the same batch"));
  }
  int64_t lowest;
  if (__builtin_sub_overflow(newest, options_.out_of_order_window, &lowest)) {
    lowest = kMinT;
  }
  if (options_.out_of_order_window > 0 && t >= lowest) {
    if (s->ooo != nullptr) {
      auto it =
          std::lower_bound(s->ooo->begin(), s->ooo->end(), t,
                           [](const Sample& a, int64_t b) { return a.t < b; });
      if (it != s->ooo->end() && it->t == t && Bits(it->v) != bits) {
        return absl::AlreadyExistsError(
            absl::StrCat("duplicate out-of-order sample for timestamp ", t,
                         " with a different value"));
      }
    }
    *ooo = true;
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "out of order sample: timestamp ", t, " is before the series' newest ",
      newest,
      options_.out_of_order_window > 0
          ? absl::StrCat(" by more than the out-of-order window of ",
                         options_.out_of_order_window, "ms")
          : std::string(" (out-of-order ingestion is disabled)")));
}

absl::Status Head::Check(MemSeries* s, int64_t t, double v,
                         int64_t pending_max) {
  Stripe& rs = RefStripe(s->ref);
  absl::MutexLock l(&rs.mu);
  bool ooo;
  return CheckLocked(s, t, Bits(v), pending_max, &ooo);
}

void Head::UpdateTimes(int64_t t) {
  int64_t cur = min_time_.load();
  while (t < cur && !min_time_.compare_exchange_weak(cur, t)) {
  }
  cur = max_time_.load();
  while (t > cur && !max_time_.compare_exchange_weak(cur, t)) {
  }
}

void Head::AppendLocked(MemSeries* s, int64_t t, double v, bool ooo) {
  if (AppendSample(s, t, v, ooo)) {
    UpdateTimes(t);
    counters_.samples_appended.fetch_add(1, std::memory_order_relaxed);
  }
}

bool Head::AppendSample(MemSeries* s, int64_t t, double v, bool ooo) {
  if (ooo) {
    if (s->ooo == nullptr) s->ooo = std::make_unique<std::vector<Sample>>();
    auto it =
        std::lower_bound(s->ooo->begin(), s->ooo->end(), t,
                         [](const Sample& a, int64_t b) { return a.t < b; });
    if (it != s->ooo->end() && it->t == t) return false;  // identical dup
    s->ooo->insert(it, Sample{t, v});
  } else {
    XorChunk& c = s->open;
    if (!c.empty() && (c.num_samples() >= kMaxSamplesPerChunk ||
                       FloorDiv(t, options_.chunk_range) !=
                           FloorDiv(c.max_time(), options_.chunk_range))) {
      c.ShrinkToFit();
      ChunkData done{c.min_time(), c.max_time(), c.Release()};
      s->chunks.push_back(std::move(done));
      s->open = XorChunk();
    }
    if (!c.empty() && t == c.max_time()) return false;  // identical dup
    if (c.empty() && !s->chunks.empty() && t <= s->chunks.back().maxt) {
      return false;
    }
    c.Append(t, v);
  }
  return true;
}

absl::Status Head::Apply(MemSeries* s, int64_t t, double v) {
  Stripe& rs = RefStripe(s->ref);
  absl::MutexLock l(&rs.mu);
  bool ooo;
  absl::Status st = CheckLocked(s, t, Bits(v), kMinT, &ooo);
  if (!st.ok()) {
    CountReject(absl::IsAlreadyExists(st) ? Reject::kDuplicate
                : absl::IsOutOfRange(st)  ? Reject::kOutOfBounds
                                          : Reject::kOutOfOrder);
    return st;
  }
  AppendLocked(s, t, v, ooo);
  return absl::OkStatus();
}

void Head::ApplyForReplay(const ReplaySample* samples, size_t n) {
  constexpr size_t kAhead = 8;
  int64_t mint = kMaxT, maxt = kMinT;
  uint64_t appended = 0;
  for (size_t i = 0; i < n; ++i) {
    // Consecutive samples are of different series (a WAL record holds one
    // scrape of many series), so each one's series and open chunk are
    // cache misses: prefetch those of the samples a few places ahead.
    if (i + 2 * kAhead < n) {
      const char* p = reinterpret_cast<const char*>(samples[i + 2 * kAhead].s);
      for (size_t off = 0; off < sizeof(MemSeries); off += 64) {
        __builtin_prefetch(p + off, 1);
      }
    }
    if (i + kAhead < n) {
      std::string_view b = samples[i + kAhead].s->open.bytes();
      if (!b.empty()) __builtin_prefetch(b.data() + b.size() - 1, 1);
    }
    const ReplaySample& r = samples[i];
    bool ooo;
    absl::Status st = CheckLocked(r.s, r.t, Bits(r.v), kMinT, &ooo);
    if (!st.ok()) {
      CountReject(absl::IsAlreadyExists(st) ? Reject::kDuplicate
                  : absl::IsOutOfRange(st)  ? Reject::kOutOfBounds
                                            : Reject::kOutOfOrder);
      continue;
    }
    if (AppendSample(r.s, r.t, r.v, ooo)) {
      mint = std::min(mint, r.t);
      maxt = std::max(maxt, r.t);
      ++appended;
    }
  }
  if (appended > 0) {
    UpdateTimes(mint);
    UpdateTimes(maxt);
    counters_.samples_appended.fetch_add(appended, std::memory_order_relaxed);
  }
}

MemSeries* Head::CreateForReplay(SeriesRef ref, const base::Labels& labels) {
  if (MemSeries* s = Lookup(ref)) return s;
  const uint64_t hash = labels.Hash();
  Stripe& hs = HashStripe(hash);
  absl::MutexLock l(&hs.mu);
  // The same labels may come back under a new ref after a series was
  // garbage-collected and re-created; keep one series per labels.
  MemSeries* s = FindByHashLocked(hs, hash, labels);
  if (s != nullptr) return s;
  SeriesRef next = next_ref_.load();
  while (ref >= next && !next_ref_.compare_exchange_weak(next, ref + 1)) {
  }
  return InsertLocked(hs, ref, labels, hash);
}

MemSeries* Head::Lookup(SeriesRef ref) {
  Stripe& rs = RefStripe(ref);
  absl::MutexLock l(&rs.mu);
  auto it = rs.by_ref.find(ref);
  return it == rs.by_ref.end() ? nullptr : it->second.get();
}

void Head::LoadChunks(MemSeries* s, std::vector<ChunkData> chunks,
                      std::vector<Sample> ooo) {
  Stripe& rs = RefStripe(s->ref);
  absl::MutexLock l(&rs.mu);
  for (ChunkData& c : chunks) {
    if (c.maxt < min_valid_time_.load()) continue;
    const int64_t last = !s->open.empty()     ? s->open.max_time()
                         : !s->chunks.empty() ? s->chunks.back().maxt
                                              : kMinT;
    if (c.mint <= last) continue;  // already present
    UpdateTimes(c.mint);
    UpdateTimes(c.maxt);
    if (!s->open.empty()) {
      s->open.ShrinkToFit();
      s->chunks.push_back(
          {s->open.min_time(), s->open.max_time(), s->open.Release()});
      s->open = XorChunk();
    }
    s->chunks.push_back(std::move(c));
  }
  for (const Sample& smp : ooo) {
    bool is_ooo;
    if (CheckLocked(s, smp.t, Bits(smp.v), kMinT, &is_ooo).ok()) {
      AppendLocked(s, smp.t, smp.v, true);
    }
  }
}

absl::StatusOr<std::vector<std::shared_ptr<const ChunkedSeries>>> Head::Select(
    const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt) {
  Postings refs;
  {
    auto r = SelectPostings(postings_, matchers);
    if (!r.ok()) return r.status();
    refs = std::move(*r);
  }
  std::vector<std::shared_ptr<const ChunkedSeries>> out;
  out.reserve(refs.size());
  for (SeriesRef ref : refs) {
    auto cs = std::make_shared<ChunkedSeries>();
    {
      Stripe& rs = RefStripe(ref);
      absl::MutexLock l(&rs.mu);
      auto it = rs.by_ref.find(ref);
      if (it == rs.by_ref.end()) continue;
      MemSeries* s = it->second.get();
      for (const ChunkData& c : s->chunks) {
        if (c.maxt >= mint && c.mint <= maxt) cs->chunks.push_back(c);
      }
      if (!s->open.empty() && s->open.max_time() >= mint &&
          s->open.min_time() <= maxt) {
        cs->chunks.push_back({s->open.min_time(), s->open.max_time(),
                              std::string(s->open.bytes())});
      }
      if (s->ooo != nullptr) {
        for (const Sample& smp : *s->ooo) {
          if (smp.t >= mint && smp.t <= maxt) cs->extra.push_back(smp);
        }
      }
      if (cs->chunks.empty() && cs->extra.empty()) continue;
      cs->labels = postings_.Materialize(s->syms.get(), s->nsyms);
    }
    out.push_back(std::move(cs));
  }
  return out;
}

void Head::ForEachSeries(
    const std::function<void(SeriesRef, const ChunkedSeries&)>& fn) {
  // In ref order: series are then created in ref order when the checkpoint
  // is loaded, so the postings lists are built by appends.
  std::vector<SeriesRef> refs;
  refs.reserve(static_cast<size_t>(std::max<int64_t>(0, num_series_.load())));
  for (size_t i = 0; i < num_stripes_; ++i) {
    absl::MutexLock l(&stripes_[i].mu);
    for (const auto& [ref, s] : stripes_[i].by_ref) refs.push_back(ref);
  }
  std::sort(refs.begin(), refs.end());
  ChunkedSeries cs;
  for (SeriesRef ref : refs) {
    cs.chunks.clear();
    cs.extra.clear();
    {
      Stripe& rs = RefStripe(ref);
      absl::MutexLock l(&rs.mu);
      auto it = rs.by_ref.find(ref);
      if (it == rs.by_ref.end()) continue;  // removed meanwhile
      const MemSeries* s = it->second.get();
      cs.labels = postings_.Materialize(s->syms.get(), s->nsyms);
      cs.chunks = s->chunks;
      if (!s->open.empty()) {
        cs.chunks.push_back({s->open.min_time(), s->open.max_time(),
                             std::string(s->open.bytes())});
      }
      if (s->ooo != nullptr) cs.extra = *s->ooo;
    }
    fn(ref, cs);
  }
}

void Head::RemoveSeries(SeriesRef ref, uint64_t hash) {
  Stripe& hs = HashStripe(hash);
  absl::MutexLock hl(&hs.mu);
  Stripe& rs = RefStripe(ref);
  std::unique_ptr<MemSeries> owned;
  {
    absl::MutexLock rl(&rs.mu);
    auto it = rs.by_ref.find(ref);
    if (it == rs.by_ref.end()) return;
    MemSeries* s = it->second.get();
    if (s->pinned > 0 || !s->chunks.empty() || !s->open.empty() ||
        (s->ooo != nullptr && !s->ooo->empty())) {
      return;
    }
    owned = std::move(it->second);
    rs.by_ref.erase(it);
  }
  MemSeries* s = owned.get();
  auto hit = hs.by_hash.find(hash);
  if (hit != hs.by_hash.end()) {
    if (hit->second == s) {
      if (s->next_same_hash != nullptr) {
        hit->second = s->next_same_hash;
      } else {
        hs.by_hash.erase(hit);
      }
    } else {
      for (MemSeries* p = hit->second; p != nullptr; p = p->next_same_hash) {
        if (p->next_same_hash == s) {
          p->next_same_hash = s->next_same_hash;
          break;
        }
      }
    }
  }
  if (options_.max_series_per_metric > 0) {
    base::Labels labels = postings_.Materialize(s->syms.get(), s->nsyms);
    absl::MutexLock ml(&metric_mu_);
    auto it = per_metric_.find(std::string(labels.Get(base::kMetricName)));
    if (it != per_metric_.end() && --it->second <= 0) per_metric_.erase(it);
  }
  postings_.Remove(ref, s->syms.get(), s->nsyms);
  num_series_.fetch_sub(1);
  counters_.series_removed.fetch_add(1);
}

void Head::Truncate(int64_t mint) {
  int64_t cur = min_valid_time_.load();
  while (mint > cur && !min_valid_time_.compare_exchange_weak(cur, mint)) {
  }
  int64_t new_min = kMaxT;
  std::vector<std::pair<SeriesRef, uint64_t>> empty;
  for (size_t i = 0; i < num_stripes_; ++i) {
    absl::MutexLock l(&stripes_[i].mu);
    for (auto& [ref, s] : stripes_[i].by_ref) {
      auto& ch = s->chunks;
      ch.erase(
          std::remove_if(ch.begin(), ch.end(),
                         [mint](const ChunkData& c) { return c.maxt < mint; }),
          ch.end());
      if (!s->open.empty() && s->open.max_time() < mint) s->open = XorChunk();
      if (s->ooo != nullptr) {
        auto& o = *s->ooo;
        o.erase(o.begin(), std::lower_bound(o.begin(), o.end(), mint,
                                            [](const Sample& a, int64_t b) {
                                              return a.t < b;
                                            }));
        if (o.empty()) s->ooo.reset();
      }
      if (!ch.empty()) new_min = std::min(new_min, ch.front().mint);
      if (!s->open.empty()) new_min = std::min(new_min, s->open.min_time());
      if (s->ooo != nullptr) new_min = std::min(new_min, s->ooo->front().t);
      if (ch.empty() && s->open.empty() && s->ooo == nullptr &&
          s->pinned == 0) {
        empty.emplace_back(ref, s->hash);
      }
    }
  }
  for (const auto& [ref, hash] : empty) RemoveSeries(ref, hash);
  min_time_.store(new_min);
  if (new_min == kMaxT) max_time_.store(kMinT);
}

size_t Head::MemoryBytes() {
  size_t b = postings_.MemoryBytes();
  for (size_t i = 0; i < num_stripes_; ++i) {
    absl::MutexLock l(&hash_stripes_[i].mu);
    b += hash_stripes_[i].by_hash.capacity() * (8 + 8 + 1);
  }
  for (size_t i = 0; i < num_stripes_; ++i) {
    absl::MutexLock l(&stripes_[i].mu);
    b += stripes_[i].by_ref.capacity() * (8 + 8 + 1);
    for (const auto& [ref, s] : stripes_[i].by_ref) {
      b += sizeof(MemSeries) + s->nsyms * 4 + s->open.HeapBytes();
      b += s->chunks.capacity() * sizeof(ChunkData);
      for (const ChunkData& c : s->chunks) {
        b += c.bytes.capacity() > 15 ? c.bytes.capacity() : 0;
      }
      if (s->ooo != nullptr) b += 24 + s->ooo->capacity() * sizeof(Sample);
    }
  }
  return b;
}

}  // namespace pantau::metrics::tsdb
