#include "metrics/api/params.h"

#include <cmath>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "base/time.h"
#include "metrics/promql/parser.h"

namespace pantau::metrics::api {

using base::Sv;

namespace {

// What Prometheus's minTime/maxTime format as (clients echo them back).
constexpr std::string_view kMinTimeFormatted = "-292273086-05-16T16:47:06Z";
constexpr std::string_view kMaxTimeFormatted =
    "292277025-08-18T07:12:54.999999999Z";

bool ParseFloatStrict(std::string_view s, double* out) {
  // SimpleAtod skips surrounding whitespace; Go's ParseFloat does not.
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || s.front() == '\t' ||
      s.back() == '\t' || s.front() == '\n' || s.back() == '\n') {
    return false;
  }
  return absl::SimpleAtod(Sv(s), out);
}

}  // namespace

absl::StatusOr<int64_t> ParseTime(std::string_view s) {
  double secs;
  if (ParseFloatStrict(s, &secs) && std::isfinite(secs)) {
    // Prometheus rounds the fraction to milliseconds.
    double ms = std::round(secs * 1000.0);
    if (std::fabs(ms) < 9.2e18) return static_cast<int64_t>(ms);
  }
  if (s == kMinTimeFormatted) return kMinTimeMs;
  if (s == kMaxTimeFormatted) return kMaxTimeMs;
  if (!s.empty() && s.front() != ' ') {
    absl::StatusOr<int64_t> t = base::ParseApiTimestampMillis(s);
    if (t.ok()) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse \"", Sv(s), "\" to a valid timestamp"));
}

absl::StatusOr<int64_t> ParseTimeParam(const net::HttpRequest& req,
                                       std::string_view name,
                                       int64_t fallback) {
  std::string_view v = req.Param(name);
  if (v.empty()) return fallback;
  absl::StatusOr<int64_t> t = ParseTime(v);
  if (!t.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Invalid time value for '", Sv(name), "': ", t.status().message()));
  }
  return t;
}

absl::StatusOr<absl::Duration> ParseDurationParam(std::string_view s) {
  double secs;
  if (ParseFloatStrict(s, &secs)) {
    double ns = secs * 1e9;
    if (!std::isfinite(ns) || ns >= 9.223372036854775807e18 ||
        ns < -9.223372036854775808e18) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot parse \"", Sv(s),
                       "\" to a valid duration. It overflows int64"));
    }
    return absl::Nanoseconds(static_cast<int64_t>(ns));
  }
  if (!s.empty()) {
    absl::StatusOr<absl::Duration> d = base::ParseDuration(s);
    if (d.ok()) return d;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse \"", Sv(s), "\" to a valid duration"));
}

absl::Status InvalidParam(const absl::Status& cause, std::string_view name) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid parameter \"", Sv(name), "\": ", cause.message()));
}

absl::StatusOr<std::vector<std::vector<Matcher>>> ParseMatchersParam(
    const std::vector<std::string_view>& values) {
  std::vector<std::vector<Matcher>> sets;
  sets.reserve(values.size());
  for (std::string_view v : values) {
    absl::StatusOr<std::vector<Matcher>> ms = promql::ParseMetricSelector(v);
    if (!ms.ok()) return absl::InvalidArgumentError(ms.status().message());
    sets.push_back(*std::move(ms));
  }
  for (const std::vector<Matcher>& set : sets) {
    bool ok = false;
    for (const Matcher& m : set) {
      if (!m.MatchesEmpty()) {
        ok = true;
        break;
      }
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          "match[] must contain at least one non-empty matcher");
    }
  }
  return sets;
}

absl::StatusOr<int64_t> ParseLimitParam(const net::HttpRequest& req,
                                        std::string_view name,
                                        std::string_view message) {
  std::string_view v = req.Param(name);
  if (v.empty()) return 0;
  int64_t n;
  if (!absl::SimpleAtoi(Sv(v), &n) || n < 0) {
    return absl::InvalidArgumentError(std::string(message));
  }
  return n;
}

}  // namespace pantau::metrics::api
