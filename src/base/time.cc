#include "base/time.h"

#include <cctype>
#include <chrono>
#include <cmath>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"

namespace pantau::base {
namespace {

class RealClockImpl : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  absl::Duration Monotonic() const override {
    return absl::FromChrono(
        std::chrono::steady_clock::now().time_since_epoch());
  }
};

struct Unit {
  std::string_view name;
  absl::Duration size;
};

// Longest names first where one is a prefix of another ("ms" before "m").
constexpr int kUnitCount = 7;
const Unit kUnits[kUnitCount] = {
    {"y", absl::Hours(24 * 365)},  {"w", absl::Hours(24 * 7)},
    {"d", absl::Hours(24)},        {"h", absl::Hours(1)},
    {"ms", absl::Milliseconds(1)}, {"m", absl::Minutes(1)},
    {"s", absl::Seconds(1)},
};

// The order in which units must appear in a duration string.
int UnitRank(std::string_view name) {
  static constexpr std::string_view kOrder[] = {"y", "w", "d", "h",
                                                "m", "s", "ms"};
  for (int i = 0; i < 7; ++i) {
    if (kOrder[i] == name) return i;
  }
  return -1;
}

}  // namespace

Clock* Clock::Real() {
  static Clock* clock = new RealClockImpl();
  return clock;
}

FakeClock::FakeClock(absl::Time start) : now_(start), mono_(absl::Seconds(1)) {}

absl::Time FakeClock::Now() const {
  absl::MutexLock lock(&mu_);
  return now_;
}

absl::Duration FakeClock::Monotonic() const {
  absl::MutexLock lock(&mu_);
  return mono_;
}

void FakeClock::Advance(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  now_ += d;
  mono_ += d;
}

void FakeClock::Set(absl::Time t) {
  absl::MutexLock lock(&mu_);
  if (t > now_) mono_ += t - now_;
  now_ = t;
}

absl::StatusOr<absl::Duration> ParseDuration(std::string_view s) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("not a valid duration string: \"", Sv(s), "\""));
  };
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return bad();
  absl::Duration total = absl::ZeroDuration();
  int last_rank = -1;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return bad();
    uint64_t n;
    if (!absl::SimpleAtoi(Sv(s.substr(start, i - start)), &n)) return bad();
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (s.substr(i, u.name.size()) == u.name) {
        unit = &u;
        break;
      }
    }
    if (unit == nullptr) return bad();
    i += unit->name.size();
    int rank = UnitRank(unit->name);
    if (rank <= last_rank) return bad();
    last_rank = rank;
    // Reject values that overflow int64 milliseconds, as Prometheus does.
    double ms = static_cast<double>(n) * absl::ToDoubleMilliseconds(unit->size);
    if (ms > static_cast<double>(std::numeric_limits<int64_t>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat("duration out of range: \"", Sv(s), "\""));
    }
    total += unit->size * static_cast<int64_t>(n);
  }
  return total;
}

std::string FormatDuration(absl::Duration d) {
  int64_t ms = absl::ToInt64Milliseconds(d);
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out.push_back('-');
    ms = -ms;
  }
  struct Part {
    int64_t size;
    const char* name;
  };
  static constexpr Part kParts[] = {{365LL * 24 * 3600 * 1000, "y"},
                                    {7LL * 24 * 3600 * 1000, "w"},
                                    {24LL * 3600 * 1000, "d"},
                                    {3600LL * 1000, "h"},
                                    {60LL * 1000, "m"},
                                    {1000, "s"},
                                    {1, "ms"}};
  for (const Part& p : kParts) {
    if (ms >= p.size) {
      absl::StrAppend(&out, ms / p.size, p.name);
      ms %= p.size;
    }
  }
  return out;
}

absl::StatusOr<int64_t> ParseApiTimestampMillis(std::string_view s) {
  double secs;
  if (absl::SimpleAtod(Sv(s), &secs) && std::isfinite(secs)) {
    // Round to the nearest millisecond as Prometheus does.
    double ms = std::round(secs * 1000.0);
    if (std::fabs(ms) < 9.2e18) return static_cast<int64_t>(ms);
  }
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, Sv(s), &t, &err)) {
    return absl::ToUnixMillis(t);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("cannot parse \"", Sv(s), "\" to a valid timestamp"));
}

std::string FormatUnixSeconds(int64_t ms) {
  int64_t secs = ms / 1000;
  int64_t frac = ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  if (frac == 0) return absl::StrCat(secs);
  std::string f = absl::StrFormat("%03d", frac);
  while (!f.empty() && f.back() == '0') f.pop_back();
  return absl::StrCat(secs, ".", f);
}

std::string FormatRfc3339Millis(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", t, absl::UTCTimeZone());
}

}  // namespace pantau::base
