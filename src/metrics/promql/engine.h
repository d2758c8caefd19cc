// The PromQL engine: runs instant and range queries against a Queryable
// under limits (timeout, samples loaded at once, series) and a caller's
// cancellation token.
//
//   Engine engine(EngineOptions{});
//   auto r = engine.InstantQuery(storage, "sum(rate(x[5m]))", now_ms);
//   if (!r.ok()) ... ErrorType(r.status()) gives Prometheus's errorType.
//
// Thread safety: an Engine is immutable and safe for concurrent queries.
#ifndef PANTAU_METRICS_PROMQL_ENGINE_H_
#define PANTAU_METRICS_PROMQL_ENGINE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/time.h"
#include "metrics/promql/ast.h"
#include "metrics/promql/value.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::promql {

struct EngineOptions {
  // How far back an instant selector looks for a sample (Prometheus's
  // --query.lookback-delta).
  int64_t lookback_delta_ms = 5 * 60 * 1000;
  // Wall-clock budget of one query (--query.timeout).
  absl::Duration timeout = absl::Minutes(2);
  // Samples held in memory at once (--query.max-samples).
  int64_t max_samples = 50'000'000;
  // Series one selector may select; 0 means no limit.
  int64_t max_series = 0;
  // Step of subqueries written without one, like Prometheus's global
  // evaluation_interval.
  int64_t default_subquery_step_ms = 60 * 1000;
  // Threads one query may use to read and evaluate series in parallel;
  // 0 means the machine's hardware threads (at most 8), 1 keeps a query on
  // its caller's thread.
  int parallelism = 0;
  // Measures the timeout; not owned, must outlive the engine. Null means
  // base::Clock::Real(); tests pass a FakeClock.
  const base::Clock* clock = nullptr;
};

struct QueryContext {
  // Polled regularly; returning true ends the query with CANCELLED.
  std::function<bool()> cancelled;
};

struct QueryResult {
  Value value;
  std::vector<std::string> warnings;
};

class Engine {
 public:
  explicit Engine(EngineOptions options) : options_(std::move(options)) {}

  const EngineOptions& options() const { return options_; }

  absl::StatusOr<QueryResult> InstantQuery(Queryable& queryable,
                                           std::string_view query,
                                           int64_t ts_ms,
                                           const QueryContext& ctx = {}) const;
  // Steps from start to end inclusive; the result is a Matrix sorted by
  // labels. Preconditions checked: step > 0, end >= start.
  absl::StatusOr<QueryResult> RangeQuery(Queryable& queryable,
                                         std::string_view query,
                                         int64_t start_ms, int64_t end_ms,
                                         int64_t step_ms,
                                         const QueryContext& ctx = {}) const;
  // On an already parsed expression; `instant` selects the result shape.
  absl::StatusOr<QueryResult> Exec(Queryable& queryable, const Expr& expr,
                                   int64_t start_ms, int64_t end_ms,
                                   int64_t step_ms, bool instant,
                                   const QueryContext& ctx = {}) const;

 private:
  EngineOptions options_;
};

// Points per series of a range query, for the API's 11,000 limit.
inline int64_t RangeQueryPoints(int64_t start_ms, int64_t end_ms,
                                int64_t step_ms) {
  return step_ms <= 0 ? 0 : (end_ms - start_ms) / step_ms + 1;
}

// Prometheus's errorType for a failed query: bad_data, timeout, canceled,
// execution.
std::string_view ErrorType(const absl::Status& status);

// format_query: the query re-printed from its AST, prettified as
// Prometheus does.
absl::StatusOr<std::string> FormatQuery(std::string_view query);

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_ENGINE_H_
