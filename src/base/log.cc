#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "base/json_escape.h"
#include "base/strings.h"
#include "base/time.h"

namespace pantau::base {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<LogFormat> g_format{LogFormat::kLogfmt};

absl::Mutex& SinkMutex() {
  static absl::Mutex* mu = new absl::Mutex();
  return *mu;
}

std::function<void(std::string_view)>& Sink() {
  static auto* sink = new std::function<void(std::string_view)>();
  return *sink;
}

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "unknown";
}

bool NeedsLogfmtQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) return true;
  }
  return false;
}

void AppendLogfmt(std::string* out, std::string_view key, std::string_view v) {
  if (!out->empty()) out->push_back(' ');
  out->append(key);
  out->push_back('=');
  if (NeedsLogfmtQuotes(v)) {
    out->push_back('"');
    AppendJsonEscaped(out, v);
    out->push_back('"');
  } else {
    out->append(v);
  }
}

void AppendJson(std::string* out, std::string_view key, std::string_view v,
                bool is_string) {
  if (out->size() > 1) out->push_back(',');
  out->push_back('"');
  AppendJsonEscaped(out, key);
  out->append("\":");
  if (is_string) {
    out->push_back('"');
    AppendJsonEscaped(out, v);
    out->push_back('"');
  } else {
    out->append(v);
  }
}

std::string_view Basename(const char* file) {
  const char* slash = std::strrchr(file, '/');
  return slash ? slash + 1 : file;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view s) {
  std::string l = absl::AsciiStrToLower(Sv(s));
  if (l == "debug") return LogLevel::kDebug;
  if (l == "info") return LogLevel::kInfo;
  if (l == "warn") return LogLevel::kWarn;
  if (l == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      absl::StrCat("unrecognized log level \"", Sv(s),
                   "\" (want debug, info, warn or error)"));
}

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view s) {
  if (s == "logfmt") return LogFormat::kLogfmt;
  if (s == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(
      "unrecognized log format \"", Sv(s), "\" (want logfmt or json)"));
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
void SetLogFormat(LogFormat format) { g_format.store(format); }
bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void SetLogSink(std::function<void(std::string_view)> sink) {
  absl::MutexLock lock(&SinkMutex());
  Sink() = std::move(sink);
}

namespace internal {

void LogAt(LogLevel level, const char* file, int line, std::string_view msg,
           std::initializer_list<LogField> fields) {
  std::string ts = FormatRfc3339Millis(absl::Now());
  std::string caller = absl::StrCat(Sv(Basename(file)), ":", line);
  std::string out;
  if (g_format.load() == LogFormat::kJson) {
    out = "{";
    AppendJson(&out, "ts", ts, true);
    AppendJson(&out, "level", LevelName(level), true);
    AppendJson(&out, "caller", caller, true);
    AppendJson(&out, "msg", msg, true);
    for (const LogField& f : fields)
      AppendJson(&out, f.key, f.value, f.is_string);
    out.push_back('}');
  } else {
    AppendLogfmt(&out, "ts", ts);
    AppendLogfmt(&out, "level", LevelName(level));
    AppendLogfmt(&out, "caller", caller);
    AppendLogfmt(&out, "msg", msg);
    for (const LogField& f : fields) AppendLogfmt(&out, f.key, f.value);
  }
  absl::MutexLock lock(&SinkMutex());
  if (Sink()) {
    Sink()(out);
  } else {
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
}

}  // namespace internal
}  // namespace pantau::base
