#include "pantau/sdk/otlp_transport.h"

#include <algorithm>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pantau/sdk/span_context.h"

namespace pantau::sdk {

std::string_view OtlpHttpPath(OtlpSignal signal) {
  switch (signal) {
    case OtlpSignal::kTraces:
      return "/v1/traces";
    case OtlpSignal::kMetrics:
      return "/v1/metrics";
    case OtlpSignal::kLogs:
      return "/v1/logs";
  }
  return "/v1/traces";
}

OtlpResponse::Outcome ClassifyHttpStatus(int status) {
  if (status >= 200 && status < 300) return OtlpResponse::Outcome::kOk;
  if (status == 429 || status == 502 || status == 503 || status == 504) {
    return OtlpResponse::Outcome::kRetryable;
  }
  return OtlpResponse::Outcome::kFailed;
}

std::optional<absl::Duration> ParseRetryAfter(std::string_view value,
                                              absl::Time now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value[0] >= '0' && value[0] <= '9') {
    int64_t secs = 0;
    auto [ptr, ec] =
        std::from_chars(value.data(), value.data() + value.size(), secs);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return std::nullopt;
    }
    return absl::Seconds(secs);
  }
  absl::Time when;
  std::string err;
  if (!absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), &when,
                       &err)) {
    return std::nullopt;
  }
  return std::max(absl::ZeroDuration(), when - now);
}

absl::StatusOr<OtlpResponse> SendWithRetry(OtlpTransport& transport,
                                           const OtlpRequest& request,
                                           const RetryOptions& retry,
                                           const absl::Notification* cancel) {
  absl::Duration backoff = retry.initial_backoff;
  int attempts = std::max(1, retry.max_attempts);
  OtlpResponse last;
  for (int attempt = 1;; ++attempt) {
    if (cancel != nullptr && cancel->HasBeenNotified()) {
      return absl::CancelledError("OTLP exporter shut down");
    }
    last = transport.Send(request);
    if (last.outcome == OtlpResponse::Outcome::kOk) return last;
    if (last.outcome == OtlpResponse::Outcome::kFailed) {
      return absl::InvalidArgumentError(absl::StrCat(
          "OTLP export rejected (status ", last.status, "): ", last.message));
    }
    if (attempt >= attempts) break;
    absl::Duration wait = backoff;
    if (retry.jitter) {
      // [50%, 100%] of the backoff.
      double f = 0.5 + 0.5 * static_cast<double>(internal::RandomU64() >> 11) /
                           static_cast<double>(1ULL << 53);
      wait = backoff * f;
    }
    if (last.retry_after.has_value()) {
      if (*last.retry_after > retry.max_retry_after) break;
      wait = *last.retry_after;
    }
    if (retry.sleep) {
      retry.sleep(wait);
    } else if (cancel != nullptr) {
      cancel->WaitForNotificationWithTimeout(wait);
    } else {
      absl::SleepFor(wait);
    }
    backoff = std::min(backoff * 2, retry.max_backoff);
  }
  return absl::UnavailableError(
      absl::StrCat("OTLP export failed after retries (status ", last.status,
                   "): ", last.message));
}

}  // namespace pantau::sdk
