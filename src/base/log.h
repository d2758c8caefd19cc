// Structured logging: one line per event, logfmt by default
//   ts=2026-11-24T10:00:00.123Z level=info caller=server.cc:42 msg="listening"
//   address=:9090
// or JSON with --log.format=json. Fields are key/value pairs:
//
//   PANTAU_LOG(kInfo, "WAL replay done", {{"segments", n}, {"took", d}});
//
// Lines below the configured level cost one atomic load. Output goes to
// stderr by default; tests may redirect it with SetLogSink.
//
// Thread safety: all functions are safe to call concurrently; each line is
// written whole.
#ifndef PANTAU_BASE_LOG_H_
#define PANTAU_BASE_LOG_H_

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace pantau::base {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kLogfmt, kJson };

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view s);
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view s);

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
bool LogEnabled(LogLevel level);
// Receives each formatted line (without the trailing newline). nullptr
// restores stderr.
void SetLogSink(std::function<void(std::string_view line)> sink);

// A field's value is kept as text plus whether it needs quoting in JSON.
struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v) {}
  LogField(std::string_view k, bool v)
      : key(k), value(v ? "true" : "false"), is_string(false) {}
  template <typename T, std::enable_if_t<std::is_arithmetic_v<T>, bool> = true>
  LogField(std::string_view k, T v)
      : key(k), value(absl::StrCat(v)), is_string(false) {}
  LogField(std::string_view k, absl::Duration d)
      : key(k), value(absl::FormatDuration(d)) {}
  LogField(std::string_view k, const absl::Status& s)
      : key(k), value(s.ToString()) {}

  std::string_view key;
  std::string value;
  bool is_string = true;
};

namespace internal {
void LogAt(LogLevel level, const char* file, int line, std::string_view msg,
           std::initializer_list<LogField> fields = {});
}  // namespace internal

}  // namespace pantau::base

#define PANTAU_LOG(level, ...)                                          \
  do {                                                                  \
    if (::pantau::base::LogEnabled(::pantau::base::LogLevel::level)) {  \
      ::pantau::base::internal::LogAt(::pantau::base::LogLevel::level,  \
                                      __FILE__, __LINE__, __VA_ARGS__); \
    }                                                                   \
  } while (0)

#endif  // PANTAU_BASE_LOG_H_
