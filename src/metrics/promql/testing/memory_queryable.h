// An in-memory Queryable for tests of the query engine: series kept
// sorted, samples per series in time order. A querier sees only samples
// inside its [mint, maxt], as the TSDB's do, so an engine asking for too
// narrow a range fails its tests. Not for production: no WAL, no limits,
// linear scans over series.
//
// Thread safety: safe for concurrent use (one mutex).
#ifndef PANTAU_METRICS_PROMQL_TESTING_MEMORY_QUERYABLE_H_
#define PANTAU_METRICS_PROMQL_TESTING_MEMORY_QUERYABLE_H_

#include <map>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::promql::testing {

class MemoryQueryable : public Queryable {
 public:
  // Adds a sample; samples of a series must come in increasing time order
  // (a repeated timestamp replaces the value).
  void Add(const base::Labels& labels, int64_t t, double v);
  void Clear();
  size_t NumSeries() const;

  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override;

  using Data = std::map<base::Labels, std::vector<Sample>>;

 private:
  mutable absl::Mutex mu_;
  // Shared with open queriers, which keep a snapshot.
  std::shared_ptr<Data> data_ ABSL_GUARDED_BY(mu_) = std::make_shared<Data>();
};

}  // namespace pantau::metrics::promql::testing

#endif  // PANTAU_METRICS_PROMQL_TESTING_MEMORY_QUERYABLE_H_
