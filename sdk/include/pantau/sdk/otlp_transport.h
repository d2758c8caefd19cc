// The wire under the OTLP exporters: one Send per export request, over
// OTLP/HTTP (protobuf) or OTLP/gRPC, behind an interface so tests use a
// fake and users who do not want gRPC need not link it.
//
// A transport classifies the answer the way the OTLP specification says a
// client must act on it: success, retryable (HTTP 429/502/503/504, gRPC
// UNAVAILABLE etc., connection failures and timeouts) or permanent
// failure; SendWithRetry then applies backoff.
//
// Thread safety: transports must allow concurrent Send calls.
#ifndef PANTAU_SDK_OTLP_TRANSPORT_H_
#define PANTAU_SDK_OTLP_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace pantau::sdk {

enum class OtlpSignal { kTraces, kMetrics, kLogs };

// "/v1/traces", "/v1/metrics", "/v1/logs".
std::string_view OtlpHttpPath(OtlpSignal signal);

struct OtlpRequest {
  OtlpSignal signal = OtlpSignal::kTraces;
  // A serialized Export{Trace,Metrics,Logs}ServiceRequest, uncompressed
  // (the transport compresses when configured to).
  std::string body;
  // Deadline for this attempt.
  absl::Duration timeout = absl::Seconds(10);
};

struct OtlpResponse {
  enum class Outcome { kOk, kRetryable, kFailed };
  Outcome outcome = Outcome::kFailed;
  // From Retry-After (HTTP) or RetryInfo (gRPC), when the server sent one.
  std::optional<absl::Duration> retry_after;
  // HTTP status, or the gRPC code's HTTP equivalent; 0 when no answer.
  int status = 0;
  // Why it failed, for error messages.
  std::string message;
  // On success: the serialized Export*ServiceResponse (may be empty).
  std::string body;
};

class OtlpTransport {
 public:
  virtual ~OtlpTransport() = default;
  virtual OtlpResponse Send(const OtlpRequest& request) = 0;
};

struct RetryOptions {
  // Attempts in total, including the first. Default 5.
  int max_attempts = 5;
  // Wait before the first retry; doubles each time up to max_backoff.
  // Defaults 1 s and 30 s.
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Seconds(30);
  // Randomise each wait to [50%, 100%] so many clients do not retry in
  // lockstep. Default true.
  bool jitter = true;
  // A server's Retry-After longer than this ends the retries. Default 60 s.
  absl::Duration max_retry_after = absl::Seconds(60);
  // How to wait; tests pass a fake. Default absl::SleepFor.
  std::function<void(absl::Duration)> sleep;
};

// Sends `request`, retrying retryable outcomes with exponential backoff;
// a Retry-After from the server replaces the computed wait. Returns the
// successful response, or UNAVAILABLE (retries exhausted) /
// INVALID_ARGUMENT-like errors (permanent failure) with the server's
// message.
// When `cancel` is given and gets notified, a wait between attempts ends at
// once and CANCELLED is returned (used by exporter shutdown, so an
// unreachable endpoint cannot hold a process's exit for the whole backoff).
absl::StatusOr<OtlpResponse> SendWithRetry(
    OtlpTransport& transport, const OtlpRequest& request,
    const RetryOptions& retry, const absl::Notification* cancel = nullptr);

// Parses an HTTP Retry-After value: delay-seconds or an HTTP-date (IMF
// fixdate), relative to `now`. nullopt when malformed.
std::optional<absl::Duration> ParseRetryAfter(std::string_view value,
                                              absl::Time now);

// Classifies an HTTP status per the OTLP/HTTP specification.
OtlpResponse::Outcome ClassifyHttpStatus(int status);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_OTLP_TRANSPORT_H_
