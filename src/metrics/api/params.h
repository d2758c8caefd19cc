// Parsing of the Prometheus HTTP API's request parameters with Prometheus's
// error messages (web/api/v1: parseTime, parseDuration, parseMatchersParam),
// so clients that show or match on them see the same text.
//
// Thread safety: pure functions.
#ifndef PANTAU_METRICS_API_PARAMS_H_
#define PANTAU_METRICS_API_PARAMS_H_

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metrics/storage/matcher.h"
#include "net/http_request.h"

namespace pantau::metrics::api {

// The default start and end of /series, /labels and /label/../values:
// Prometheus's minTime and maxTime in milliseconds.
inline constexpr int64_t kMinTimeMs = -9223309901257974000LL;
inline constexpr int64_t kMaxTimeMs = 9223309901257974999LL;

// A time parameter: Unix seconds with a fraction (rounded to ms) or RFC 3339.
// Error: `cannot parse "<s>" to a valid timestamp`.
absl::StatusOr<int64_t> ParseTime(std::string_view s);

// `name` from the request, `fallback` when absent or empty. Error:
// `Invalid time value for '<name>': cannot parse ...`.
absl::StatusOr<int64_t> ParseTimeParam(const net::HttpRequest& req,
                                       std::string_view name, int64_t fallback);

// A duration: float seconds ("15", "0.5") or a Prometheus duration ("1m").
// Errors: `cannot parse "<s>" to a valid duration` (and "... It overflows
// int64" for huge float seconds).
absl::StatusOr<absl::Duration> ParseDurationParam(std::string_view s);

// Wraps `cause` (INVALID_ARGUMENT) as `invalid parameter "<name>": <msg>`.
absl::Status InvalidParam(const absl::Status& cause, std::string_view name);

// Each match[] value parsed as a series selector. Fails if one does not
// parse, or if a set has no matcher that rejects the empty string ("match[]
// must contain at least one non-empty matcher").
absl::StatusOr<std::vector<std::vector<Matcher>>> ParseMatchersParam(
    const std::vector<std::string_view>& values);

// A non-negative integer parameter such as `limit`; 0 when absent.
// Error (INVALID_ARGUMENT): `<message>`.
absl::StatusOr<int64_t> ParseLimitParam(const net::HttpRequest& req,
                                        std::string_view name,
                                        std::string_view message);

}  // namespace pantau::metrics::api

#endif  // PANTAU_METRICS_API_PARAMS_H_
