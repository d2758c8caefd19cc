// Runs a query's per-series work on several threads. Selecting and
// decoding series dominates range queries, and series are independent, so
// they split across cores; results are committed by the caller in series
// order so output, limits and errors stay exactly as a sequential run's.
//
// Internal to the promql module, and used by the API (same owners) to
// format a large result on the query threads.
// Thread safety: ParallelFor's `fn` runs concurrently for distinct
// indices; `poll` runs only on the calling thread.
#ifndef PANTAU_METRICS_PROMQL_PARALLEL_H_
#define PANTAU_METRICS_PROMQL_PARALLEL_H_

#include <atomic>
#include <cstddef>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace pantau::metrics::promql {

// Calls fn(i, worker) for every i in [0, n), in increasing order of i per
// worker, on up to `threads` threads (the caller's included; `worker` is
// in [0, threads) and lets fn keep per-thread scratch space). Between
// items the caller's thread calls `poll`; when poll fails or `stop` is set
// (fn may set it), no new items start. Items already started finish, so
// every i below the first unstarted one has run. Returns poll's error, if
// any.
absl::Status ParallelFor(size_t n, int threads, std::atomic<bool>* stop,
                         absl::FunctionRef<void(size_t i, int worker)> fn,
                         absl::FunctionRef<absl::Status()> poll);

// Threads to use for `n` items given the engine option (0: the machine's
// hardware threads).
int ParallelThreads(int option, size_t n);

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_PARALLEL_H_
