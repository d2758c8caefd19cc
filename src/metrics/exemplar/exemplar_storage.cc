#include "metrics/exemplar/exemplar_storage.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "metrics/exemplar/exemplar_log.h"

namespace pantau::metrics::exemplar {
namespace {

size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

bool SameExemplar(const Exemplar& a, const Exemplar& b) {
  return a.t == b.t && std::memcmp(&a.value, &b.value, sizeof a.value) == 0 &&
         a.labels == b.labels;
}

bool MatchesAll(const base::Labels& labels, const std::vector<Matcher>& set) {
  for (const Matcher& m : set) {
    if (!m.Matches(labels)) return false;
  }
  return true;
}

}  // namespace

ExemplarStorage::ExemplarStorage(int64_t capacity) {
  absl::MutexLock l(&mu_);
  RebuildLocked(std::max<int64_t>(capacity, 0), {});
}

ExemplarStorage::~ExemplarStorage() = default;

absl::StatusOr<std::unique_ptr<ExemplarStorage>> ExemplarStorage::Open(
    const std::string& dir, int64_t capacity) {
  auto storage = std::make_unique<ExemplarStorage>(capacity);
  // The log is opened even when storage is disabled (capacity 0), so that
  // enabling it on a reload persists from then on.
  std::vector<LoggedExemplar> replayed;
  absl::StatusOr<std::unique_ptr<ExemplarLog>> log =
      ExemplarLog::Open(dir, &replayed);
  if (!log.ok()) return log.status();
  absl::MutexLock l(&storage->mu_);
  const size_t logged = replayed.size();
  storage->RebuildLocked(capacity, std::move(replayed));
  storage->log_ = *std::move(log);
  if (logged > 0) {
    PANTAU_LOG(kInfo, "exemplars replayed",
               {{"dir", dir},
                {"logged", static_cast<int64_t>(logged)},
                {"kept", storage->stats_.stored}});
  }
  return storage;
}

absl::Status ExemplarStorage::Add(const base::Labels& series,
                                  const Exemplar& e) {
  absl::MutexLock l(&mu_);
  std::string record;
  absl::Status s = AddLocked(series, e, log_ ? &record : nullptr);
  if (s.ok() && log_) WriteLogLocked(record, 1);
  return s;
}

size_t ExemplarStorage::AddBatch(
    const std::vector<std::pair<const base::Labels*, Exemplar>>& batch) {
  absl::MutexLock l(&mu_);
  std::string records;
  size_t added = 0;
  for (const auto& [series, e] : batch) {
    added += AddLocked(*series, e, log_ ? &records : nullptr).ok();
  }
  if (added > 0 && log_) WriteLogLocked(records, added);
  return added;
}

absl::Status ExemplarStorage::AddLocked(const base::Labels& series,
                                        const Exemplar& e,
                                        std::string* log_buf) {
  const int64_t capacity = static_cast<int64_t>(ring_.size());
  if (capacity == 0) {
    return absl::FailedPreconditionError("exemplar storage is disabled");
  }
  if (series.empty()) {
    ++stats_.invalid;
    return absl::InvalidArgumentError("exemplar for a series without labels");
  }
  size_t runes = 0;
  for (const base::LabelView& l : e.labels) {
    runes += Utf8Length(l.name) + Utf8Length(l.value);
  }
  if (runes > kMaxExemplarLabelRunes) {
    ++stats_.invalid;
    return absl::InvalidArgumentError(absl::StrCat(
        "exemplar label set is ", runes, " characters long, more than the ",
        kMaxExemplarLabelRunes, " allowed"));
  }
  if (auto it = by_labels_.find(series); it != by_labels_.end()) {
    const Exemplar& newest = ring_[series_[it->second].newest].exemplar;
    if (SameExemplar(newest, e)) {
      return absl::AlreadyExistsError("duplicate exemplar");
    }
    if (e.t <= newest.t) {
      ++stats_.out_of_order;
      return absl::OutOfRangeError("out of order exemplar");
    }
  }
  const int64_t slot = next_slot_;
  // Evict first: the overwritten entry may be this series' only one.
  if (ring_[slot].series >= 0) EvictLocked(slot);
  int32_t idx;
  if (auto it = by_labels_.find(series); it != by_labels_.end()) {
    idx = it->second;
  } else {
    if (!free_series_.empty()) {
      idx = free_series_.back();
      free_series_.pop_back();
    } else {
      idx = static_cast<int32_t>(series_.size());
      series_.emplace_back();
    }
    series_[idx].labels = series;
    by_labels_.emplace(series, idx);
    ++stats_.series;
  }
  SeriesIndex& si = series_[idx];
  ring_[slot] = Entry{e, idx, -1};
  if (si.newest >= 0) {
    ring_[si.newest].next = slot;
  } else {
    si.oldest = slot;
  }
  si.newest = slot;
  next_slot_ = (slot + 1) % capacity;
  ++stats_.stored;
  ++stats_.appended;
  if (log_buf != nullptr) EncodeRecord(series, e, log_buf);
  return absl::OkStatus();
}

void ExemplarStorage::EvictLocked(int64_t slot) {
  Entry& entry = ring_[slot];
  SeriesIndex& si = series_[entry.series];
  // The ring overwrites in insertion order, so the entry is the oldest of
  // its series.
  si.oldest = entry.next;
  if (si.oldest < 0) {
    by_labels_.erase(si.labels);
    si = SeriesIndex{};
    free_series_.push_back(entry.series);
    --stats_.series;
  }
  entry = Entry{};
  --stats_.stored;
}

void ExemplarStorage::WriteLogLocked(const std::string& records, size_t count) {
  absl::Status s = log_->Append(records, count);
  if (s.ok() &&
      log_->records() > 2 * ring_.size() + static_cast<size_t>(1024)) {
    s = log_->Rewrite(SnapshotLocked());
  }
  if (!s.ok()) {
    ++stats_.log_errors;
    PANTAU_LOG(kWarn, "exemplar log write failed; exemplars kept in memory",
               {{"err", s.ToString()}});
  }
}

std::vector<LoggedExemplar> ExemplarStorage::SnapshotLocked() const {
  std::vector<LoggedExemplar> out;
  out.reserve(static_cast<size_t>(stats_.stored));
  const int64_t capacity = static_cast<int64_t>(ring_.size());
  for (int64_t i = 0; i < capacity; ++i) {
    const Entry& e = ring_[(next_slot_ + i) % capacity];
    if (e.series >= 0) out.emplace_back(series_[e.series].labels, e.exemplar);
  }
  return out;
}

void ExemplarStorage::RebuildLocked(int64_t capacity,
                                    std::vector<LoggedExemplar> items) {
  ring_.assign(static_cast<size_t>(capacity), Entry{});
  series_.clear();
  free_series_.clear();
  by_labels_.clear();
  next_slot_ = 0;
  stats_.capacity = capacity;
  stats_.stored = 0;
  stats_.series = 0;
  if (capacity == 0) return;
  size_t first = items.size() > static_cast<size_t>(capacity)
                     ? items.size() - static_cast<size_t>(capacity)
                     : 0;
  for (size_t i = first; i < items.size(); ++i) {
    (void)AddLocked(items[i].first, items[i].second, nullptr);
  }
}

absl::Status ExemplarStorage::Resize(int64_t capacity) {
  capacity = std::max<int64_t>(capacity, 0);
  absl::MutexLock l(&mu_);
  if (capacity == static_cast<int64_t>(ring_.size())) return absl::OkStatus();
  RebuildLocked(capacity, SnapshotLocked());
  if (log_) return log_->Rewrite(SnapshotLocked());
  return absl::OkStatus();
}

std::vector<ExemplarSeries> ExemplarStorage::Select(
    int64_t start_ms, int64_t end_ms,
    const std::vector<std::vector<Matcher>>& matcher_sets) const {
  std::vector<ExemplarSeries> out;
  absl::MutexLock l(&mu_);
  for (const SeriesIndex& si : series_) {
    if (si.oldest < 0) continue;
    bool match = false;
    for (const std::vector<Matcher>& set : matcher_sets) {
      if (MatchesAll(si.labels, set)) {
        match = true;
        break;
      }
    }
    if (!match) continue;
    ExemplarSeries es;
    for (int64_t i = si.oldest; i >= 0; i = ring_[i].next) {
      const Exemplar& e = ring_[i].exemplar;
      if (e.t >= start_ms && e.t <= end_ms) es.exemplars.push_back(e);
    }
    if (es.exemplars.empty()) continue;
    es.series_labels = si.labels;
    out.push_back(std::move(es));
  }
  std::sort(out.begin(), out.end(),
            [](const ExemplarSeries& a, const ExemplarSeries& b) {
              return a.series_labels < b.series_labels;
            });
  return out;
}

ExemplarStats ExemplarStorage::Stats() const {
  absl::MutexLock l(&mu_);
  return stats_;
}

}  // namespace pantau::metrics::exemplar
