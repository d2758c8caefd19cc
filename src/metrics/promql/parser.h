// The PromQL parser: query text to a type-checked AST (ast.h).
//
// Errors are INVALID_ARGUMENT with Prometheus's message shape,
// "<line>:<col>: parse error: <what>", the position 1-based.
//
// Thread safety: stateless functions; safe from any thread.
#ifndef PANTAU_METRICS_PROMQL_PARSER_H_
#define PANTAU_METRICS_PROMQL_PARSER_H_

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/promql/ast.h"
#include "metrics/storage/matcher.h"

namespace pantau::metrics::promql {

absl::StatusOr<ExprPtr> ParseExpr(std::string_view query);

// A lone selector such as `up{job="x"}` as /api/v1/series' match[] takes;
// its matchers, including __name__.
absl::StatusOr<std::vector<Matcher>> ParseMetricSelector(
    std::string_view selector);

// Parses a duration such as "1h30m" or "5ms" to milliseconds.
absl::StatusOr<int64_t> ParseDurationMs(std::string_view s);

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_PARSER_H_
