// Postings: sorted lists of series refs per label pair, the in-memory one
// the head keeps, and the matcher evaluation shared by head and blocks.
//
// Thread safety: MemPostings is safe for concurrent use (one reader/writer
// lock); the free functions are pure.
#ifndef PANTAU_METRICS_TSDB_POSTINGS_H_
#define PANTAU_METRICS_TSDB_POSTINGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/labels.h"
#include "metrics/storage/matcher.h"

namespace pantau::metrics::tsdb {

using Postings = std::vector<uint64_t>;  // strictly increasing

Postings Intersect(const Postings& a, const Postings& b);
Postings Union(const std::vector<Postings>& lists);
Postings Subtract(const Postings& a, const Postings& b);

// What matcher evaluation needs from an index (head or block).
class IndexLookup {
 public:
  virtual ~IndexLookup() = default;
  // Calls fn for every value of label `name` (any order).
  virtual void ForEachValue(
      std::string_view name,
      const std::function<void(std::string_view)>& fn) = 0;
  virtual Postings Get(std::string_view name, std::string_view value) = 0;
  virtual Postings All() = 0;
};

// The refs of series matching every matcher, with Prometheus semantics: a
// matcher that matches "" also selects series without the label. Fails if
// every matcher matches the empty string and `allow_all` is false.
absl::StatusOr<Postings> SelectPostings(IndexLookup& index,
                                        const std::vector<Matcher>& matchers);

// The head's inverted index. Label strings are interned: each distinct
// string is stored once and series refer to it by a 32-bit id.
class MemPostings : public IndexLookup {
 public:
  MemPostings();

  // Interns the pairs of `labels`, adds `ref` to their lists and writes the
  // symbol ids, two per pair, to syms[0 .. 2 * labels.size()).
  void Add(uint64_t ref, const base::Labels& labels, uint32_t* syms);
  // Bulk loading (replay of a checkpoint, possibly from several threads):
  // between the two calls Add appends refs to the lists unsorted, and
  // EndBulkLoad sorts each list once. Sorted inserts of refs arriving in
  // random order cost O(list length) each, which made loading a head of
  // 1M series quadratic. Lookups in between may see unsorted lists.
  void BeginBulkLoad();
  void EndBulkLoad();
  // Removes `ref` from the lists of its pairs (the ids Add returned).
  void Remove(uint64_t ref, const uint32_t* syms, size_t n);
  // Builds the Labels of interned pairs.
  base::Labels Materialize(const uint32_t* syms, size_t n) const;
  // Whether interned pairs equal `labels`.
  bool Equal(const uint32_t* syms, size_t n, const base::Labels& labels) const;

  void ForEachValue(std::string_view name,
                    const std::function<void(std::string_view)>& fn) override;
  Postings Get(std::string_view name, std::string_view value) override;
  Postings All() override;
  std::vector<std::string> LabelNames();

  // Bytes held by symbols and lists (approximate).
  size_t MemoryBytes() const;
  size_t num_symbols() const;

 private:
  uint32_t InternLocked(std::string_view s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static uint64_t Key(uint32_t name, uint32_t value) {
    return (uint64_t{name} << 32) | value;
  }

  mutable absl::Mutex mu_;
  // Interned strings; ids index strings_. Entries are never moved (the
  // vector holds unique_ptrs) so string_views into them stay valid.
  std::vector<std::unique_ptr<std::string>> strings_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> refcount_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> free_ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string_view, uint32_t> ids_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Postings> lists_ ABSL_GUARDED_BY(mu_);
  // name id -> value ids present.
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> values_
      ABSL_GUARDED_BY(mu_);
  Postings all_ ABSL_GUARDED_BY(mu_);
  bool bulk_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_POSTINGS_H_
