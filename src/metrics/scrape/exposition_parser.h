// A pull parser for the two text formats a scrape target may answer with:
// the Prometheus text exposition format 0.0.4 and OpenMetrics 1.0.
//
//   ExpositionParser p(body, ExpositionFormat::kOpenMetrics);
//   while (true) {
//     PANTAU_ASSIGN_OR_RETURN(ExpositionEntry e, p.Next());
//     if (e == ExpositionEntry::kEof) break;
//     if (e == ExpositionEntry::kSeries) use(p.metric_name(), p.labels(), ...);
//   }
//
// It is on the scrape hot path, so it is hand-written and allocation-free
// in the steady state: names and values are string_views into the body (or,
// for label values with escapes, into a scratch buffer the parser reuses),
// and the vectors it hands out keep their capacity between lines.
// Everything a view points to stays valid until the next call to Next().
//
// Errors name the line: "line 12: invalid UTF-8 in label value". The first
// error ends the parse (the scrape fails as a whole, as in Prometheus).
//
// Thread safety: a parser belongs to one thread.
#ifndef PANTAU_METRICS_SCRAPE_EXPOSITION_PARSER_H_
#define PANTAU_METRICS_SCRAPE_EXPOSITION_PARSER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/labels.h"

namespace pantau::metrics::scrape {

enum class ExpositionFormat {
  kText004,      // text/plain; version=0.0.4
  kOpenMetrics,  // application/openmetrics-text; version=1.0.0
};

// Picks the parser for an HTTP Content-Type; anything but OpenMetrics is
// read as text 0.0.4, as Prometheus does.
ExpositionFormat FormatFromContentType(std::string_view content_type);

enum class ExpositionEntry {
  kSeries,   // a sample: metric_name(), labels(), value(), timestamp_ms()
  kHelp,     // metric_name(), help()
  kType,     // metric_name(), type()
  kUnit,     // metric_name(), unit() (OpenMetrics only)
  kComment,  // any other # line (text format only)
  kEof,      // end of input (for OpenMetrics: after "# EOF")
};

enum class MetricType {
  kUnknown,  // "untyped" in the text format, "unknown" in OpenMetrics
  kCounter,
  kGauge,
  kHistogram,
  kGaugeHistogram,
  kSummary,
  kInfo,
  kStateSet,
};

std::string_view MetricTypeName(MetricType type);

class ExpositionParser {
 public:
  // `body` must outlive the parser and every view it returns.
  ExpositionParser(std::string_view body, ExpositionFormat format);

  // The next entry; kEof at the end (and on every call after it). Errors
  // are INVALID_ARGUMENT with the line number in the message.
  absl::StatusOr<ExpositionEntry> Next();

  // 1-based line of the entry last returned.
  int line() const { return line_; }

  // kSeries, kHelp, kType, kUnit: the metric (family) name.
  std::string_view metric_name() const { return name_; }
  // kSeries: labels other than the name, in the order written. Label names
  // are unique (a repeat is an error) and values are valid UTF-8.
  const std::vector<base::LabelView>& labels() const { return labels_; }
  double value() const { return value_; }
  // In milliseconds; nullopt when the line has none.
  std::optional<int64_t> timestamp_ms() const { return timestamp_ms_; }
  // The whole series text "name{...}", unique per series in a scrape;
  // a cheap cache key.
  std::string_view series_text() const { return series_text_; }

  // kSeries in OpenMetrics: the exemplar, if the line carries one.
  bool has_exemplar() const { return has_exemplar_; }
  const std::vector<base::LabelView>& exemplar_labels() const {
    return exemplar_labels_;
  }
  double exemplar_value() const { return exemplar_value_; }
  std::optional<int64_t> exemplar_timestamp_ms() const {
    return exemplar_ts_ms_;
  }

  // kHelp: the text, unescaped. kUnit: the unit. kType: the type.
  std::string_view help() const { return help_; }
  std::string_view unit() const { return help_; }
  MetricType type() const { return type_; }

 private:
  absl::Status Error(std::string_view what) const;
  absl::StatusOr<ExpositionEntry> ParseComment(std::string_view line);
  absl::StatusOr<ExpositionEntry> ParseSeries(std::string_view line);
  // Parses `{a="b",...}` starting at line[*pos] == '{' into `out`.
  absl::Status ParseLabels(std::string_view line, size_t* pos,
                           std::vector<base::LabelView>* out);
  absl::Status ParseExemplar(std::string_view line, size_t pos);
  absl::Status CheckDuplicates(const std::vector<base::LabelView>& labels);

  std::string_view body_;
  ExpositionFormat format_;
  size_t pos_ = 0;  // start of the next line in body_
  int line_ = 0;
  bool eof_ = false;

  std::string_view name_;
  std::string_view series_text_;
  std::vector<base::LabelView> labels_;
  double value_ = 0;
  std::optional<int64_t> timestamp_ms_;
  bool has_exemplar_ = false;
  std::vector<base::LabelView> exemplar_labels_;
  double exemplar_value_ = 0;
  std::optional<int64_t> exemplar_ts_ms_;
  std::string_view help_;
  MetricType type_ = MetricType::kUnknown;

  // Unescaped label values and help texts of the current line. Views into
  // it are recorded as offsets while it grows, then resolved.
  std::string scratch_;
  struct Pending {
    std::vector<base::LabelView>* vec;
    size_t index;
    size_t offset;
    size_t length;
  };
  std::vector<Pending> pending_;
  std::vector<std::string_view> sort_buf_;
};

// Helpers shared with the relabeler and the remote_write receiver.
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);
bool IsValidUtf8(std::string_view s);

// Parses a sample value as Prometheus does (Go's ParseFloat): decimal or
// exponent forms, "NaN", "+Inf", "-Inf", "Inf" (case-insensitive).
std::optional<double> ParseSampleValue(std::string_view s);

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_EXPOSITION_PARSER_H_
