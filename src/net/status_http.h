// THE one place that maps absl::Status codes to HTTP status codes and to the
// `errorType` strings of the Prometheus (and Loki) HTTP API, and renders the
// Prometheus JSON error envelope. Every API module answers errors through
// these functions so the same failure looks the same everywhere.
//
//   absl::Status code      HTTP  errorType
//   INVALID_ARGUMENT       400   bad_data
//   OUT_OF_RANGE           400   bad_data
//   ALREADY_EXISTS         409   bad_data
//   UNAUTHENTICATED        401   bad_data
//   PERMISSION_DENIED      403   bad_data
//   NOT_FOUND              404   not_found
//   FAILED_PRECONDITION    422   execution
//   RESOURCE_EXHAUSTED     422   execution  (query limits, as Prometheus)
//   ABORTED                409   execution
//   CANCELLED              499   canceled   (client closed the request)
//   DEADLINE_EXCEEDED      503   timeout
//   UNAVAILABLE            503   unavailable
//   UNIMPLEMENTED          501   internal
//   INTERNAL, DATA_LOSS,   500   internal
//   UNKNOWN
//
// Ingest endpoints whose clients retry on 429 (remote_write, Loki push)
// should pick 429 themselves for rate limits; RESOURCE_EXHAUSTED here
// follows the query API, where it means "this query is too big".
//
// Thread safety: pure functions.
#ifndef PANTAU_NET_STATUS_HTTP_H_
#define PANTAU_NET_STATUS_HTTP_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "base/json_escape.h"
#include "net/http_response.h"

namespace pantau::net {

// 200 for OK, else per the table above.
int HttpStatusFromStatusCode(absl::StatusCode code);
// "" for OK, else per the table above.
std::string_view ErrorTypeFromStatusCode(absl::StatusCode code);

// The absl code a client should see for an HTTP status it received (used
// by the HTTP client's callers: scrape, notifier, exporters). 2xx → OK,
// 400/422 → INVALID_ARGUMENT, 401 → UNAUTHENTICATED, 403 →
// PERMISSION_DENIED, 404 → NOT_FOUND, 408/504 → DEADLINE_EXCEEDED,
// 409 → ABORTED, 413/429 → RESOURCE_EXHAUSTED, 501 → UNIMPLEMENTED,
// 502/503 → UNAVAILABLE, other 4xx → FAILED_PRECONDITION, other 5xx →
// INTERNAL, anything else → UNKNOWN.
absl::StatusCode StatusCodeFromHttpStatus(int http_status);

// {"status":"error","errorType":"<type>","error":"<message>"} with the
// message JSON-escaped.
std::string PrometheusErrorJson(std::string_view error_type,
                                std::string_view message);

// A JSON response with the Prometheus error envelope and the mapped status
// code. `status` must not be OK.
HttpResponse PrometheusErrorResponse(const absl::Status& status);

// A plain-text response (Loki's error style) with the mapped status code.
// `status` must not be OK.
HttpResponse TextErrorResponse(const absl::Status& status);

// Appends `s` to `out` as a JSON string body (without the quotes).
using base::AppendJsonEscaped;

}  // namespace pantau::net

#endif  // PANTAU_NET_STATUS_HTTP_H_
