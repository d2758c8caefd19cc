// Time for every module: a Clock that tests replace, Prometheus-style
// durations ("1h30m", "5m", "250ms"), and the timestamp forms the HTTP APIs
// accept (RFC 3339 or Unix seconds with a fraction).
//
// Internally timestamps are int64 milliseconds since the Unix epoch, as in
// Prometheus; logs and traces use nanoseconds where their protocols do.
//
// Thread safety: RealClock is safe; FakeClock is safe (internally locked).
#ifndef PANTAU_BASE_TIME_H_
#define PANTAU_BASE_TIME_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace pantau::base {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // Monotonic; for measuring durations.
  virtual absl::Duration Monotonic() const = 0;

  // The process-wide real clock; never destroyed.
  static Clock* Real();
};

// A clock that moves only when told to.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1700000000));
  absl::Time Now() const override;
  absl::Duration Monotonic() const override;
  void Advance(absl::Duration d);
  void Set(absl::Time t);

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
  absl::Duration mono_ ABSL_GUARDED_BY(mu_);
};

inline int64_t ToMillis(absl::Time t) { return absl::ToUnixMillis(t); }
inline absl::Time FromMillis(int64_t ms) { return absl::FromUnixMillis(ms); }

// Parses a Prometheus duration: one or more of <int><unit> in the order
// y w d h m s ms, e.g. "1h30m", "90s", "5m". Fails on anything else,
// including an empty string and "0" with no unit (as Prometheus does,
// except that "0" alone is accepted as zero).
absl::StatusOr<absl::Duration> ParseDuration(std::string_view s);

// Formats as Prometheus does: "1h30m", "5m", "0s", "250ms". Call it
// qualified (base::FormatDuration): absl::FormatDuration is found by ADL.
std::string FormatDuration(absl::Duration d);

// Parses an API time parameter: RFC 3339 ("2026-11-24T10:00:00.5Z") or Unix
// seconds with an optional fraction ("1700000000.123"). Returns ms.
absl::StatusOr<int64_t> ParseApiTimestampMillis(std::string_view s);

// Unix seconds with millisecond precision, as the Prometheus API writes
// sample timestamps: 1700000000.123 (no trailing zeros).
std::string FormatUnixSeconds(int64_t ms);

// RFC 3339 with milliseconds in UTC, for logs: 2026-11-24T10:00:00.123Z.
std::string FormatRfc3339Millis(absl::Time t);

}  // namespace pantau::base

#endif  // PANTAU_BASE_TIME_H_
