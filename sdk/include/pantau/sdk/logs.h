// Structured logging: a Logger with levels and key/value fields that
// writes logfmt or JSON lines (to stdout by default) and/or hands records
// to processors for OTLP export. Each record is stamped with the active
// span's trace_id and span_id.
//
//   sdk::Logger log({.format = sdk::LogFormat::kJson});
//   log.Info("order placed", {{"order_id", id}, {"amount", 12.5}});
//   // {"ts":"2026-11-24T10:00:00.123Z","level":"info","msg":"order placed",
//   //  "order_id":"A1","amount":12.5,"trace_id":"...","span_id":"..."}
//
// A record below the minimum severity costs one comparison.
//
// Thread safety: Logger is safe to use from any thread; each line is
// written whole.
#ifndef PANTAU_SDK_LOGS_H_
#define PANTAU_SDK_LOGS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/time.h"
#include "pantau/sdk/attributes.h"
#include "pantau/sdk/batch_options.h"
#include "pantau/sdk/resource.h"
#include "pantau/sdk/span_context.h"
#include "pantau/sdk/span_data.h"

namespace pantau::sdk {

// Values are the OTLP SeverityNumber of each level.
enum class Severity {
  kTrace = 1,
  kDebug = 5,
  kInfo = 9,
  kWarn = 13,
  kError = 17,
  kFatal = 21,
};

// "trace", "debug", "info", "warn", "error", "fatal".
std::string_view SeverityText(Severity s);

struct LogRecord {
  int64_t time_unix_nano = 0;
  int64_t observed_time_unix_nano = 0;
  Severity severity = Severity::kInfo;
  std::string body;
  Attributes attributes;
  // Invalid (zero) when no span was active.
  TraceId trace_id;
  SpanId span_id;
  uint8_t trace_flags = 0;
  // Owned by the Logger, which outlives its processors' exports.
  const Resource* resource = nullptr;
  const InstrumentationScope* scope = nullptr;
};

class LogRecordProcessor {
 public:
  virtual ~LogRecordProcessor() = default;
  virtual void OnEmit(std::unique_ptr<LogRecord> record) = 0;
  virtual absl::Status ForceFlush(absl::Duration timeout) = 0;
  virtual absl::Status Shutdown(absl::Duration timeout) = 0;
};

class LogRecordExporter {
 public:
  virtual ~LogRecordExporter() = default;
  virtual absl::Status Export(
      const std::vector<std::unique_ptr<LogRecord>>& batch) = 0;
  virtual absl::Status Shutdown() { return absl::OkStatus(); }
};

// Batches records for export; when the queue is full the oldest record is
// dropped and counted (see span_processor.h for the same design).
class BatchLogRecordProcessor : public LogRecordProcessor {
 public:
  BatchLogRecordProcessor(std::shared_ptr<LogRecordExporter> exporter,
                          BatchOptions options = {});
  ~BatchLogRecordProcessor() override;
  void OnEmit(std::unique_ptr<LogRecord> record) override;
  absl::Status ForceFlush(absl::Duration timeout) override;
  absl::Status Shutdown(absl::Duration timeout) override;
  uint64_t dropped() const;
  uint64_t exported() const;

 private:
  struct Impl;
  std::shared_ptr<LogRecordExporter> exporter_;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> exporter_shut_down_{false};
};

// Keeps copies of exported records; for tests.
class InMemoryLogRecordExporter : public LogRecordExporter {
 public:
  absl::Status Export(
      const std::vector<std::unique_ptr<LogRecord>>& batch) override;
  std::vector<LogRecord> records() const;

 private:
  mutable absl::Mutex mu_;
  std::vector<LogRecord> records_ ABSL_GUARDED_BY(mu_);
};

enum class LogFormat { kLogfmt, kJson };

// One field of a record; any integer, float, bool or string value.
struct LogField {
  // The key is built in place from what the caller wrote (a literal stays
  // two words), not moved through a temporary.
  template <typename K, typename V>
  LogField(K&& k, V&& v)  // NOLINT: brace-initialised in calls
      : key(std::forward<K>(k)), value(ToAttributeValue(std::forward<V>(v))) {}
  AttributeKey key;
  AttributeValue value;
};

struct LoggerOptions {
  // Records below this are discarded. Default kInfo.
  Severity min_severity = Severity::kInfo;
  // Line format for the text output. Default logfmt.
  LogFormat format = LogFormat::kLogfmt;
  // Where text lines go (without trailing newline). Default: stdout.
  // Set `text_output` false to only export.
  std::function<void(std::string_view line)> sink;
  bool text_output = true;
  // Receive every record for export (e.g. a BatchLogRecordProcessor with
  // an OTLP exporter). Default none.
  std::vector<std::shared_ptr<LogRecordProcessor>> processors;
  // Attached to exported records. Default Resource::Create().
  Resource resource = Resource::Create();
  // Instrumentation scope of exported records. Default "pantau.sdk.logs".
  std::string scope_name = "pantau.sdk.logs";
  // Default (nullptr): the system clock. Not owned.
  const base::Clock* clock = nullptr;
};

class Logger {
 public:
  explicit Logger(LoggerOptions options = {});
  // Flushes and shuts down the processors.
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  bool Enabled(Severity s) const {
    return static_cast<int>(s) >= static_cast<int>(min_severity_);
  }
  void Log(Severity s, std::string_view msg,
           std::initializer_list<LogField> fields = {}) {
    if (Enabled(s)) Emit(s, msg, fields);
  }
  void Debug(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(Severity::kDebug, msg, f);
  }
  void Info(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(Severity::kInfo, msg, f);
  }
  void Warn(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(Severity::kWarn, msg, f);
  }
  void Error(std::string_view msg, std::initializer_list<LogField> f = {}) {
    Log(Severity::kError, msg, f);
  }

  absl::Status ForceFlush(absl::Duration timeout = absl::Seconds(10));
  absl::Status Shutdown(absl::Duration timeout = absl::Seconds(10));

 private:
  void Emit(Severity s, std::string_view msg,
            std::initializer_list<LogField> fields);

  Severity min_severity_;
  LogFormat format_;
  std::function<void(std::string_view)> sink_;
  bool text_output_;
  std::vector<std::shared_ptr<LogRecordProcessor>> processors_;
  Resource resource_;
  InstrumentationScope scope_;
  const base::Clock* clock_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

// Formats one line as the Logger does; exposed for tests and for callers
// with their own records.
std::string FormatLogLine(LogFormat format, const LogRecord& record);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_LOGS_H_
