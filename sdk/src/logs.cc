#include "pantau/sdk/logs.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "base/json_escape.h"
#include "batcher.h"

namespace pantau::sdk {
namespace {

void AppendRfc3339Millis(int64_t unix_nano, std::string* out) {
  int64_t ms = unix_nano / 1000000;
  time_t secs = static_cast<time_t>(ms / 1000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[40];
  int n =
      std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                    tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  out->append(buf, n);
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  base::AppendJsonEscaped(out, s);
  out->push_back('"');
}

bool LogfmtNeedsQuotes(std::string_view s) {
  if (s.empty()) return true;
  for (unsigned char c : s) {
    if (c <= ' ' || c == '=' || c == '"' || c == '\\' || c == 0x7f) {
      return true;
    }
  }
  return false;
}

void AppendLogfmtValue(std::string_view s, std::string* out) {
  if (!LogfmtNeedsQuotes(s)) {
    out->append(s);
    return;
  }
  // The JSON escaping rules are a superset of what logfmt readers accept.
  AppendJsonString(s, out);
}

void AppendJsonValue(const AttributeValue& v, std::string* out) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    AppendJsonString(*s, out);
  } else if (const auto* d = std::get_if<double>(&v)) {
    if (std::isfinite(*d)) {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), *d);
      out->append(buf, end);
    } else {
      AppendJsonString(AttributeValueToString(v), out);
    }
  } else if (std::holds_alternative<bool>(v) ||
             std::holds_alternative<int64_t>(v)) {
    out->append(AttributeValueToString(v));
  } else {
    AppendJsonString(AttributeValueToString(v), out);
  }
}

void AppendField(LogFormat format, std::string_view key,
                 const AttributeValue& value, std::string* out) {
  if (format == LogFormat::kJson) {
    out->push_back(',');
    AppendJsonString(key, out);
    out->push_back(':');
    AppendJsonValue(value, out);
  } else {
    out->push_back(' ');
    out->append(key);
    out->push_back('=');
    if (const auto* s = std::get_if<std::string>(&value)) {
      AppendLogfmtValue(*s, out);
    } else {
      AppendLogfmtValue(AttributeValueToString(value), out);
    }
  }
}

void WriteStdout(std::string_view line) {
  // One fwrite per line: stdio locks the stream, so lines never interleave.
  std::string buf;
  buf.reserve(line.size() + 1);
  buf.append(line);
  buf.push_back('\n');
  std::fwrite(buf.data(), 1, buf.size(), stdout);
}

}  // namespace

std::string_view SeverityText(Severity s) {
  switch (s) {
    case Severity::kTrace:
      return "trace";
    case Severity::kDebug:
      return "debug";
    case Severity::kInfo:
      return "info";
    case Severity::kWarn:
      return "warn";
    case Severity::kError:
      return "error";
    case Severity::kFatal:
      return "fatal";
  }
  return "info";
}

std::string FormatLogLine(LogFormat format, const LogRecord& r) {
  std::string out;
  out.reserve(128 + r.body.size());
  if (format == LogFormat::kJson) {
    out.append("{\"ts\":\"");
    AppendRfc3339Millis(r.time_unix_nano, &out);
    out.append("\",\"level\":\"");
    out.append(SeverityText(r.severity));
    out.append("\",\"msg\":");
    AppendJsonString(r.body, &out);
  } else {
    out.append("ts=");
    AppendRfc3339Millis(r.time_unix_nano, &out);
    out.append(" level=");
    out.append(SeverityText(r.severity));
    out.append(" msg=");
    AppendLogfmtValue(r.body, &out);
  }
  for (const Attribute& a : r.attributes) {
    AppendField(format, a.name(), a.value, &out);
  }
  if (r.trace_id.IsValid()) {
    AppendField(format, "trace_id", r.trace_id.ToHex(), &out);
    AppendField(format, "span_id", r.span_id.ToHex(), &out);
  }
  if (format == LogFormat::kJson) out.push_back('}');
  return out;
}

Logger::Logger(LoggerOptions options)
    : min_severity_(options.min_severity),
      format_(options.format),
      sink_(options.sink ? std::move(options.sink) : WriteStdout),
      text_output_(options.text_output),
      processors_(std::move(options.processors)),
      resource_(std::move(options.resource)),
      scope_{std::move(options.scope_name), ""},
      clock_(options.clock) {}

Logger::~Logger() { Shutdown().IgnoreError(); }

void Logger::Emit(Severity s, std::string_view msg,
                  std::initializer_list<LogField> fields) {
  auto record = std::make_unique<LogRecord>();
  record->time_unix_nano =
      clock_ != nullptr
          ? absl::ToUnixNanos(clock_->Now())
          : std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  record->observed_time_unix_nano = record->time_unix_nano;
  record->severity = s;
  record->body = std::string(msg);
  record->attributes.reserve(fields.size());
  for (const LogField& f : fields) {
    record->attributes.push_back({f.key, f.value});
  }
  if (const SpanContext* active = ActiveSpanContext();
      active != nullptr && active->IsValid()) {
    record->trace_id = active->trace_id;
    record->span_id = active->span_id;
    record->trace_flags = active->trace_flags;
  }
  record->resource = &resource_;
  record->scope = &scope_;
  if (text_output_) sink_(FormatLogLine(format_, *record));
  if (processors_.empty()) return;
  for (size_t i = 0; i + 1 < processors_.size(); ++i) {
    processors_[i]->OnEmit(std::make_unique<LogRecord>(*record));
  }
  processors_.back()->OnEmit(std::move(record));
}

absl::Status Logger::ForceFlush(absl::Duration timeout) {
  absl::Status status;
  for (const auto& p : processors_) status.Update(p->ForceFlush(timeout));
  std::fflush(stdout);
  return status;
}

absl::Status Logger::Shutdown(absl::Duration timeout) {
  {
    absl::MutexLock lock(&shutdown_mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
  }
  absl::Status status;
  for (const auto& p : processors_) status.Update(p->Shutdown(timeout));
  return status;
}

struct BatchLogRecordProcessor::Impl {
  Impl(BatchOptions options,
       internal::Batcher<std::unique_ptr<LogRecord>>::ExportFn fn)
      : batcher(options, std::move(fn)) {}
  internal::Batcher<std::unique_ptr<LogRecord>> batcher;
};

BatchLogRecordProcessor::BatchLogRecordProcessor(
    std::shared_ptr<LogRecordExporter> exporter, BatchOptions options)
    : exporter_(std::move(exporter)) {
  LogRecordExporter* e = exporter_.get();
  impl_ = std::make_unique<Impl>(
      options, [e](std::vector<std::unique_ptr<LogRecord>>& batch) {
        return e->Export(batch);
      });
}

BatchLogRecordProcessor::~BatchLogRecordProcessor() {
  Shutdown(absl::Seconds(10)).IgnoreError();
}

void BatchLogRecordProcessor::OnEmit(std::unique_ptr<LogRecord> record) {
  (void)impl_->batcher.Push(std::move(record));  // a dropped one is freed
}

absl::Status BatchLogRecordProcessor::ForceFlush(absl::Duration timeout) {
  return impl_->batcher.ForceFlush(timeout);
}

absl::Status BatchLogRecordProcessor::Shutdown(absl::Duration timeout) {
  // As BatchSpanProcessor::Shutdown: flush within the timeout, then end
  // the exporter's retries, then stop the worker.
  absl::Status status = impl_->batcher.ForceFlush(timeout);
  if (!exporter_shut_down_.exchange(true)) {
    status.Update(exporter_->Shutdown());
  }
  impl_->batcher.Shutdown(absl::ZeroDuration()).IgnoreError();
  return status;
}

uint64_t BatchLogRecordProcessor::dropped() const {
  return impl_->batcher.dropped();
}
uint64_t BatchLogRecordProcessor::exported() const {
  return impl_->batcher.exported();
}

absl::Status InMemoryLogRecordExporter::Export(
    const std::vector<std::unique_ptr<LogRecord>>& batch) {
  absl::MutexLock lock(&mu_);
  for (const auto& r : batch) records_.push_back(*r);
  return absl::OkStatus();
}

std::vector<LogRecord> InMemoryLogRecordExporter::records() const {
  absl::MutexLock lock(&mu_);
  return records_;
}

}  // namespace pantau::sdk
