#include "metrics/tsdb/series_set.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "metrics/tsdb/chunk.h"

namespace pantau::metrics::tsdb {
namespace {

// Walks one ChunkedSeries: its chunks in order merged with `extra`.
class PartIterator {
 public:
  explicit PartIterator(std::shared_ptr<const ChunkedSeries> s)
      : s_(std::move(s)) {}

  // Advances to the next sample with t >= min_t.
  bool Next(int64_t min_t) {
    if (!chunk_valid_ || chunk_t_ < min_t) AdvanceChunk(min_t);
    while (extra_ < s_->extra.size() && s_->extra[extra_].t < min_t) ++extra_;
    const bool have_extra = extra_ < s_->extra.size();
    if (!chunk_valid_ && !have_extra) return false;
    if (chunk_valid_ && (!have_extra || chunk_t_ <= s_->extra[extra_].t)) {
      if (have_extra && s_->extra[extra_].t == chunk_t_) ++extra_;
      t_ = chunk_t_;
      v_ = chunk_v_;
      chunk_valid_ = false;
    } else {
      t_ = s_->extra[extra_].t;
      v_ = s_->extra[extra_].v;
      ++extra_;
    }
    return true;
  }
  int64_t t() const { return t_; }
  double v() const { return v_; }
  const absl::Status& status() const { return status_; }

 private:
  // Loads the next chunk sample with t >= min_t into chunk_t_/chunk_v_.
  void AdvanceChunk(int64_t min_t) {
    chunk_valid_ = false;
    while (true) {
      if (in_chunk_) {
        while (it_.Next()) {
          if (it_.t() >= min_t) {
            chunk_t_ = it_.t();
            chunk_v_ = it_.v();
            chunk_valid_ = true;
            return;
          }
        }
        if (!it_.status().ok() && status_.ok()) status_ = it_.status();
        in_chunk_ = false;
      }
      // Skip whole chunks that end before min_t.
      while (chunk_ < s_->chunks.size() && s_->chunks[chunk_].maxt < min_t) {
        ++chunk_;
      }
      if (chunk_ >= s_->chunks.size()) return;
      it_ = XorIterator(s_->chunk_bytes(chunk_));
      ++chunk_;
      in_chunk_ = true;
    }
  }

  std::shared_ptr<const ChunkedSeries> s_;
  size_t chunk_ = 0;
  size_t extra_ = 0;
  XorIterator it_;
  bool in_chunk_ = false;
  bool chunk_valid_ = false;
  int64_t chunk_t_ = 0;
  double chunk_v_ = 0;
  int64_t t_ = 0;
  double v_ = 0;
  absl::Status status_;
};

// Whether `s` certainly has a sample in [mint, maxt], from chunk bounds
// (a chunk's mint and maxt are its first and last sample) and `extra`
// alone; false also when only decoding could tell (a chunk that starts
// before and ends after the range). Saves the query path decoding the
// start of every series twice.
bool HasSampleIn(const ChunkedSeries& s, int64_t mint, int64_t maxt) {
  for (const ChunkData& c : s.chunks) {
    if ((c.mint >= mint && c.mint <= maxt) ||
        (c.maxt >= mint && c.maxt <= maxt)) {
      return true;
    }
  }
  for (const Sample& x : s.extra) {
    if (x.t >= mint && x.t <= maxt) return true;
  }
  return false;
}

class MergedIterator : public SampleIterator {
 public:
  MergedIterator(std::vector<std::shared_ptr<const ChunkedSeries>> parts,
                 int64_t mint, int64_t maxt)
      : maxt_(maxt), next_min_(mint) {
    for (auto& p : parts) parts_.emplace_back(std::move(p));
    valid_.assign(parts_.size(), false);
    primed_.assign(parts_.size(), false);
  }

  bool Next() override { return Advance(next_min_); }
  bool Seek(int64_t t) override {
    if (have_ && cur_.t >= t) return true;
    return Advance(std::max(t, next_min_));
  }
  Sample At() const override { return cur_; }
  absl::Status status() const override {
    for (const PartIterator& p : parts_) {
      if (!p.status().ok()) return p.status();
    }
    return absl::OkStatus();
  }

 private:
  bool Advance(int64_t min_t) {
    if (done_) return false;
    // Fast path: parts rarely overlap (blocks cover disjoint time), so
    // while the part that gave the last sample stays below every other
    // part's next sample, it alone advances and the others are not looked
    // at. (Query-engine hot path: this runs once per sample read.)
    if (last_ >= 0 && other_min_ >= min_t) {
      PartIterator& p = parts_[last_];
      const bool valid = p.Next(min_t);
      valid_[last_] = valid;
      primed_[last_] = true;
      if (valid && p.t() < other_min_) {
        if (p.t() > maxt_) {
          done_ = true;
          have_ = false;
          return false;
        }
        cur_ = {p.t(), p.v()};
        primed_[last_] = false;
        next_min_ = cur_.t + 1;
        have_ = true;
        return true;
      }
    }
    int best = -1;
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (!primed_[i] || (valid_[i] && parts_[i].t() < min_t)) {
        valid_[i] = parts_[i].Next(min_t);
        primed_[i] = true;
      }
      if (valid_[i] && (best < 0 || parts_[i].t() < parts_[best].t())) {
        best = static_cast<int>(i);
      }
    }
    if (best < 0 || parts_[best].t() > maxt_) {
      done_ = true;
      have_ = false;
      return false;
    }
    cur_ = {parts_[best].t(), parts_[best].v()};
    // Consume every part positioned at this timestamp (duplicates).
    other_min_ = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < parts_.size(); ++i) {
      if (valid_[i] && parts_[i].t() == cur_.t) primed_[i] = false;
      if (valid_[i] && static_cast<int>(i) != best) {
        other_min_ = std::min(other_min_, parts_[i].t());
      }
    }
    last_ = best;
    next_min_ = cur_.t + 1;
    have_ = true;
    return true;
  }

  std::vector<PartIterator> parts_;
  std::vector<char> valid_;
  std::vector<char> primed_;
  int64_t maxt_;
  int64_t next_min_;
  Sample cur_;
  // The part the last sample came from, and the smallest next timestamp
  // of the other valid parts (a duplicate of the last sample counts).
  int last_ = -1;
  int64_t other_min_ = 0;
  bool have_ = false;
  bool done_ = false;
};

// The common case of a series read from several sources: parts that have
// no out-of-order samples and whose chunks do not overlap in time (blocks
// cover disjoint time, the head follows them), or a single part. Their
// chunks are then one run in time order and are read one after the other,
// with none of MergedIterator's per-sample comparison of parts.
struct RunChunk {
  int64_t mint;
  int64_t maxt;
  std::string_view bytes;
};

class ChunkRunIterator : public SampleIterator {
 public:
  ChunkRunIterator(std::vector<std::shared_ptr<const ChunkedSeries>> parts,
                   std::vector<RunChunk> chunks, int64_t mint, int64_t maxt)
      : parts_(std::move(parts)),
        chunks_(std::move(chunks)),
        maxt_(maxt),
        next_min_(mint) {}

  bool Next() override { return Advance(next_min_); }
  bool Seek(int64_t t) override {
    if (have_ && cur_.t >= t) return true;
    return Advance(std::max(t, next_min_));
  }
  Sample At() const override { return cur_; }
  absl::Status status() const override { return status_; }

 private:
  // Query-engine hot path: runs once per sample read.
  bool Advance(int64_t min_t) {
    if (done_) return false;
    while (true) {
      if (in_chunk_) {
        while (it_.Next()) {
          const int64_t t = it_.t();
          if (t < min_t) continue;  // only after a Seek into the chunk
          if (t > maxt_) return Stop();
          cur_ = {t, std::bit_cast<double>(it_.v_bits())};
          next_min_ = t + 1;
          have_ = true;
          return true;
        }
        if (!it_.status().ok()) {
          status_ = it_.status();
          return Stop();
        }
        in_chunk_ = false;
      }
      // Skip whole chunks that end before min_t without decoding them.
      while (pos_ < chunks_.size() && chunks_[pos_].maxt < min_t) ++pos_;
      if (pos_ >= chunks_.size() || chunks_[pos_].mint > maxt_) {
        return Stop();
      }
      it_ = XorIterator(chunks_[pos_].bytes);
      ++pos_;
      in_chunk_ = true;
    }
  }
  bool Stop() {
    done_ = true;
    have_ = false;
    return false;
  }

  std::vector<std::shared_ptr<const ChunkedSeries>> parts_;  // owns chunks_
  std::vector<RunChunk> chunks_;
  size_t pos_ = 0;
  XorIterator it_;
  bool in_chunk_ = false;
  int64_t maxt_;
  int64_t next_min_;
  Sample cur_;
  bool have_ = false;
  bool done_ = false;
  absl::Status status_;
};

// The chunks of `parts` as one run in time order if they form one (see
// ChunkRunIterator); false if a merge is needed.
bool ChunkRun(const std::vector<std::shared_ptr<const ChunkedSeries>>& parts,
              std::vector<RunChunk>* run) {
  size_t n = 0;
  for (const auto& p : parts) {
    if (!p->extra.empty()) return false;
    n += p->chunks.size();
  }
  run->reserve(n);
  for (const auto& p : parts) {
    for (size_t i = 0; i < p->chunks.size(); ++i) {
      run->push_back({p->chunks[i].mint, p->chunks[i].maxt, p->chunk_bytes(i)});
    }
  }
  if (parts.size() == 1) return true;  // a part's chunks are in order
  // Parts come in source order (head first); order by time, then require
  // each chunk to start after the previous one ended.
  std::stable_sort(
      run->begin(), run->end(),
      [](const RunChunk& a, const RunChunk& b) { return a.mint < b.mint; });
  for (size_t i = 1; i < run->size(); ++i) {
    if ((*run)[i].mint <= (*run)[i - 1].maxt) return false;
  }
  return true;
}

class MergedSeries : public Series {
 public:
  MergedSeries(std::vector<std::shared_ptr<const ChunkedSeries>> parts,
               int64_t mint, int64_t maxt)
      : parts_(std::move(parts)), mint_(mint), maxt_(maxt) {}
  const base::Labels& labels() const override { return parts_[0]->labels; }
  std::unique_ptr<SampleIterator> Iterator() const override {
    return NewMergedIterator(parts_, mint_, maxt_);
  }

 private:
  std::vector<std::shared_ptr<const ChunkedSeries>> parts_;
  int64_t mint_, maxt_;
};

class MergedSeriesSet : public SeriesSet {
 public:
  MergedSeriesSet(std::vector<std::shared_ptr<const ChunkedSeries>> parts,
                  int64_t mint, int64_t maxt)
      : parts_(std::move(parts)), mint_(mint), maxt_(maxt) {
    std::stable_sort(
        parts_.begin(), parts_.end(),
        [](const auto& a, const auto& b) { return a->labels < b->labels; });
  }
  bool Next() override {
    while (pos_ < parts_.size()) {
      size_t end = pos_ + 1;
      while (end < parts_.size() &&
             parts_[end]->labels == parts_[pos_]->labels) {
        ++end;
      }
      std::vector<std::shared_ptr<const ChunkedSeries>> group(
          parts_.begin() + pos_, parts_.begin() + end);
      pos_ = end;
      bool in_range = false;
      for (const auto& part : group) {
        if (HasSampleIn(*part, mint_, maxt_)) {
          in_range = true;
          break;
        }
      }
      auto series =
          std::make_unique<MergedSeries>(std::move(group), mint_, maxt_);
      if (!in_range) {
        // Only a chunk straddling the whole range leaves it open: read.
        auto it = series->Iterator();
        if (!it->Next()) {
          if (!it->status().ok()) status_ = it->status();
          continue;  // nothing in range
        }
      }
      cur_ = std::move(series);
      return true;
    }
    return false;
  }
  const Series& At() const override { return *cur_; }
  absl::Status status() const override { return status_; }

 private:
  std::vector<std::shared_ptr<const ChunkedSeries>> parts_;
  int64_t mint_, maxt_;
  size_t pos_ = 0;
  std::unique_ptr<MergedSeries> cur_;
  absl::Status status_;
};

class ErrorSeriesSet : public SeriesSet {
 public:
  explicit ErrorSeriesSet(absl::Status s) : s_(std::move(s)) {}
  bool Next() override { return false; }
  const Series& At() const override { std::abort(); }
  absl::Status status() const override { return s_; }

 private:
  absl::Status s_;
};

}  // namespace

std::unique_ptr<SampleIterator> NewMergedIterator(
    std::vector<std::shared_ptr<const ChunkedSeries>> parts, int64_t mint,
    int64_t maxt) {
  std::vector<RunChunk> run;
  if (ChunkRun(parts, &run)) {
    return std::make_unique<ChunkRunIterator>(std::move(parts), std::move(run),
                                              mint, maxt);
  }
  return std::make_unique<MergedIterator>(std::move(parts), mint, maxt);
}

std::unique_ptr<SeriesSet> NewMergedSeriesSet(
    std::vector<std::shared_ptr<const ChunkedSeries>> parts, int64_t mint,
    int64_t maxt) {
  return std::make_unique<MergedSeriesSet>(std::move(parts), mint, maxt);
}

std::unique_ptr<SeriesSet> NewErrorSeriesSet(absl::Status status) {
  return std::make_unique<ErrorSeriesSet>(std::move(status));
}

}  // namespace pantau::metrics::tsdb
