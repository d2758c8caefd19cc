#include "metrics/scrape/exposition_parser.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "metrics/scrape/strings.h"

namespace pantau::metrics::scrape {
namespace {

// Character classes for names, as a table: name scanning is the parser's
// hottest loop.
enum : uint8_t {
  kMetricStart = 1,
  kMetricChar = 2,
  kLabelStart = 4,
  kLabelChar = 8,
};
constexpr std::array<uint8_t, 256> MakeClasses() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (letter || c == ':') t[c] |= kMetricStart | kMetricChar;
    if (digit) t[c] |= kMetricChar;
    if (letter) t[c] |= kLabelStart | kLabelChar;
    if (digit) t[c] |= kLabelChar;
  }
  return t;
}
constexpr std::array<uint8_t, 256> kClasses = MakeClasses();

bool Is(char c, uint8_t cls) {
  return kClasses[static_cast<unsigned char>(c)] & cls;
}
bool IsSpace(char c) { return c == ' ' || c == '\t'; }

// Length of the metric name at the start of s (0 if none).
size_t MetricNameLength(std::string_view s) {
  if (s.empty() || !Is(s[0], kMetricStart)) return 0;
  size_t i = 1;
  while (i < s.size() && Is(s[i], kMetricChar)) ++i;
  return i;
}

size_t LabelNameLength(std::string_view s) {
  if (s.empty() || !Is(s[0], kLabelStart)) return 0;
  size_t i = 1;
  while (i < s.size() && Is(s[i], kLabelChar)) ++i;
  return i;
}

// Shortens `what` for error messages so a hostile line does not bloat logs.
std::string Quote(std::string_view what) {
  if (what.size() > 40)
    return absl::StrCat("\"", Sv(what.substr(0, 40)), "...\"");
  return absl::StrCat("\"", Sv(what), "\"");
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

}  // namespace

ExpositionFormat FormatFromContentType(std::string_view content_type) {
  std::string lower(content_type);
  for (char& c : lower) c = absl::ascii_tolower(static_cast<unsigned char>(c));
  if (lower.find("application/openmetrics-text") != std::string::npos) {
    return ExpositionFormat::kOpenMetrics;
  }
  return ExpositionFormat::kText004;
}

std::string_view MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateSet:
      return "stateset";
  }
  return "unknown";
}

bool IsValidMetricName(std::string_view name) {
  return !name.empty() && MetricNameLength(name) == name.size();
}

bool IsValidLabelName(std::string_view name) {
  return !name.empty() && LabelNameLength(name) == name.size();
}

bool IsValidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // ASCII fast path, eight bytes at a time: label values are almost
    // always ASCII.
    while (end - p >= 8) {
      uint64_t w;
      std::memcpy(&w, p, 8);
      if (w & 0x8080808080808080ull) break;
      p += 8;
    }
    if (p >= end) break;
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    p += n + 1;
  }
  return true;
}

std::optional<double> ParseSampleValue(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool neg = false;
  std::string_view rest = s;
  if (rest[0] == '+' || rest[0] == '-') {
    neg = rest[0] == '-';
    rest.remove_prefix(1);
  }
  if (EqualsIgnoreCase(rest, "inf") || EqualsIgnoreCase(rest, "infinity")) {
    return neg ? -std::numeric_limits<double>::infinity()
               : std::numeric_limits<double>::infinity();
  }
  if (EqualsIgnoreCase(rest, "nan")) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (rest.empty()) return std::nullopt;
  // from_chars would also take "inf"/"nan" spellings handled above and
  // hex floats only with chars_format::hex; plain decimal is what
  // exporters write.
  double v = 0;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), v);
  if (p != rest.data() + rest.size()) return std::nullopt;
  if (ec == std::errc::result_out_of_range) {
    // Go returns ±Inf or 0 for out-of-range values; so do we.
    v = std::strtod(std::string(rest).c_str(), nullptr);
  } else if (ec != std::errc()) {
    return std::nullopt;
  }
  return neg ? -v : v;
}

ExpositionParser::ExpositionParser(std::string_view body,
                                   ExpositionFormat format)
    : body_(body), format_(format) {}

absl::Status ExpositionParser::Error(std::string_view what) const {
  return absl::InvalidArgumentError(
      absl::StrCat("line ", line_, ": ", Sv(what)));
}

absl::StatusOr<ExpositionEntry> ExpositionParser::Next() {
  const bool om = format_ == ExpositionFormat::kOpenMetrics;
  while (true) {
    if (eof_) return ExpositionEntry::kEof;
    if (pos_ >= body_.size()) {
      eof_ = true;
      if (om) {
        ++line_;
        return Error("data does not end with # EOF");
      }
      return ExpositionEntry::kEof;
    }
    size_t nl = body_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? body_.size() : nl;
    std::string_view line = body_.substr(pos_, end - pos_);
    pos_ = nl == std::string_view::npos ? body_.size() : nl + 1;
    ++line_;
    scratch_.clear();
    pending_.clear();

    if (om) {
      if (line.empty()) return Error("unexpected empty line");
      if (line == "# EOF") {
        eof_ = true;
        if (pos_ < body_.size()) {
          ++line_;
          return Error("unexpected data after # EOF");
        }
        return ExpositionEntry::kEof;
      }
    } else {
      size_t i = 0;
      while (i < line.size() && IsSpace(line[i])) ++i;
      line.remove_prefix(i);
      if (line.empty()) continue;
    }
    if (line[0] == '#') return ParseComment(line);
    return ParseSeries(line);
  }
}

absl::StatusOr<ExpositionEntry> ExpositionParser::ParseComment(
    std::string_view line) {
  const bool om = format_ == ExpositionFormat::kOpenMetrics;
  std::string_view rest = line.substr(1);
  if (om) {
    if (rest.empty() || rest[0] != ' ') {
      return Error(absl::StrCat("unexpected comment ", Quote(line)));
    }
    rest.remove_prefix(1);
  } else {
    if (rest.empty() || !IsSpace(rest[0])) return ExpositionEntry::kComment;
    while (!rest.empty() && IsSpace(rest[0])) rest.remove_prefix(1);
  }
  ExpositionEntry kind;
  if (rest.starts_with("HELP")) {
    kind = ExpositionEntry::kHelp;
  } else if (rest.starts_with("TYPE")) {
    kind = ExpositionEntry::kType;
  } else if (om && rest.starts_with("UNIT")) {
    kind = ExpositionEntry::kUnit;
  } else {
    if (om) return Error(absl::StrCat("unexpected comment ", Quote(line)));
    return ExpositionEntry::kComment;
  }
  rest.remove_prefix(4);
  if (rest.empty() || !IsSpace(rest[0])) {
    if (om) return Error(absl::StrCat("unexpected comment ", Quote(line)));
    // "# HELPful text" is an ordinary comment in the text format.
    if (!rest.empty()) return ExpositionEntry::kComment;
    return Error("expected metric name after HELP/TYPE");
  }
  if (om) {
    rest.remove_prefix(1);
  } else {
    while (!rest.empty() && IsSpace(rest[0])) rest.remove_prefix(1);
  }
  size_t n = MetricNameLength(rest);
  if (n == 0)
    return Error(absl::StrCat("invalid metric name in ", Quote(line)));
  name_ = rest.substr(0, n);
  rest.remove_prefix(n);
  std::string_view text;
  if (!rest.empty()) {
    if (!IsSpace(rest[0])) {
      return Error(absl::StrCat("invalid metric name in ", Quote(line)));
    }
    if (om) {
      rest.remove_prefix(1);
    } else {
      while (!rest.empty() && IsSpace(rest[0])) rest.remove_prefix(1);
    }
    text = rest;
  }
  switch (kind) {
    case ExpositionEntry::kHelp: {
      if (text.find('\\') == std::string_view::npos) {
        help_ = text;
      } else {
        for (size_t i = 0; i < text.size(); ++i) {
          if (text[i] == '\\' && i + 1 < text.size()) {
            char c = text[i + 1];
            if (c == 'n') {
              scratch_.push_back('\n');
              ++i;
              continue;
            }
            if (c == '\\' || (om && c == '"')) {
              scratch_.push_back(c);
              ++i;
              continue;
            }
          }
          scratch_.push_back(text[i]);
        }
        help_ = scratch_;
      }
      if (!IsValidUtf8(help_)) return Error("invalid UTF-8 in HELP text");
      return kind;
    }
    case ExpositionEntry::kUnit:
      help_ = text;
      return kind;
    default:
      break;
  }
  // TYPE.
  if (text == "counter") {
    type_ = MetricType::kCounter;
  } else if (text == "gauge") {
    type_ = MetricType::kGauge;
  } else if (text == "histogram") {
    type_ = MetricType::kHistogram;
  } else if (text == "summary") {
    type_ = MetricType::kSummary;
  } else if (!om && text == "untyped") {
    type_ = MetricType::kUnknown;
  } else if (om && text == "unknown") {
    type_ = MetricType::kUnknown;
  } else if (om && text == "gaugehistogram") {
    type_ = MetricType::kGaugeHistogram;
  } else if (om && text == "info") {
    type_ = MetricType::kInfo;
  } else if (om && text == "stateset") {
    type_ = MetricType::kStateSet;
  } else {
    return Error(absl::StrCat("invalid metric type ", Quote(text)));
  }
  return kind;
}

absl::Status ExpositionParser::ParseLabels(std::string_view line, size_t* pos,
                                           std::vector<base::LabelView>* out) {
  const bool om = format_ == ExpositionFormat::kOpenMetrics;
  size_t i = *pos + 1;  // past '{'
  auto skip_ws = [&] {
    if (!om) {
      while (i < line.size() && IsSpace(line[i])) ++i;
    }
  };
  skip_ws();
  while (true) {
    if (i >= line.size()) return Error("unexpected end of line in label set");
    if (line[i] == '}') {
      ++i;
      break;
    }
    size_t n = LabelNameLength(line.substr(i));
    if (n == 0) {
      return Error(
          absl::StrCat("expected label name, got ", Quote(line.substr(i))));
    }
    std::string_view name = line.substr(i, n);
    i += n;
    skip_ws();
    if (i >= line.size() || line[i] != '=') {
      return Error(absl::StrCat("expected '=' after label name ", Quote(name)));
    }
    ++i;
    skip_ws();
    if (i >= line.size() || line[i] != '"') {
      return Error(absl::StrCat("expected '\"' to open the value of label ",
                                Quote(name)));
    }
    ++i;
    size_t start = i;
    bool escaped = false;
    while (i < line.size() && line[i] != '"') {
      if (line[i] == '\\') {
        escaped = true;
        ++i;
      }
      ++i;
    }
    if (i >= line.size()) {
      return Error(absl::StrCat("unterminated value of label ", Quote(name)));
    }
    std::string_view raw = line.substr(start, i - start);
    ++i;  // closing quote
    if (!escaped) {
      if (!IsValidUtf8(raw)) {
        return Error(
            absl::StrCat("invalid UTF-8 in value of label ", Quote(name)));
      }
      out->push_back({name, raw});
    } else {
      size_t offset = scratch_.size();
      for (size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] == '\\' && k + 1 < raw.size()) {
          char c = raw[k + 1];
          if (c == 'n' || c == '\\' || c == '"') {
            scratch_.push_back(c == 'n' ? '\n' : c);
            ++k;
            continue;
          }
        }
        scratch_.push_back(raw[k]);
      }
      std::string_view value(scratch_.data() + offset,
                             scratch_.size() - offset);
      if (!IsValidUtf8(value)) {
        return Error(
            absl::StrCat("invalid UTF-8 in value of label ", Quote(name)));
      }
      pending_.push_back({out, out->size(), offset, scratch_.size() - offset});
      out->push_back({name, {}});
    }
    skip_ws();
    if (i < line.size() && line[i] == ',') {
      ++i;
      skip_ws();
    } else if (i < line.size() && line[i] != '}') {
      return Error(absl::StrCat("expected ',' or '}' after the value of label ",
                                Quote(name)));
    }
  }
  *pos = i;
  return absl::OkStatus();
}

absl::Status ExpositionParser::CheckDuplicates(
    const std::vector<base::LabelView>& labels) {
  // Quadratic for the common small sets; sorting beyond that keeps a
  // hostile line with thousands of labels linear-logarithmic.
  if (labels.size() <= 16) {
    for (size_t a = 0; a < labels.size(); ++a) {
      if (labels[a].name == base::kMetricName) {
        return Error("duplicate label name \"__name__\"");
      }
      for (size_t b = a + 1; b < labels.size(); ++b) {
        if (labels[a].name == labels[b].name) {
          return Error(
              absl::StrCat("duplicate label name ", Quote(labels[a].name)));
        }
      }
    }
    return absl::OkStatus();
  }
  sort_buf_.clear();
  for (const auto& l : labels) sort_buf_.push_back(l.name);
  sort_buf_.push_back(base::kMetricName);
  std::sort(sort_buf_.begin(), sort_buf_.end());
  auto it = std::adjacent_find(sort_buf_.begin(), sort_buf_.end());
  if (it != sort_buf_.end()) {
    return Error(absl::StrCat("duplicate label name ", Quote(*it)));
  }
  return absl::OkStatus();
}

absl::StatusOr<ExpositionEntry> ExpositionParser::ParseSeries(
    std::string_view line) {
  const bool om = format_ == ExpositionFormat::kOpenMetrics;
  labels_.clear();
  exemplar_labels_.clear();
  has_exemplar_ = false;
  timestamp_ms_.reset();
  exemplar_ts_ms_.reset();

  size_t n = MetricNameLength(line);
  if (n == 0) {
    return Error(absl::StrCat("expected metric name, got ", Quote(line)));
  }
  name_ = line.substr(0, n);
  size_t i = n;
  if (!om) {
    // The text format allows blanks between the name and its label set.
    size_t j = i;
    while (j < line.size() && IsSpace(line[j])) ++j;
    if (j < line.size() && line[j] == '{') i = j;
  }
  if (i < line.size() && line[i] == '{') {
    PANTAU_RETURN_IF_ERROR(ParseLabels(line, &i, &labels_));
    series_text_ = line.substr(0, i);
  } else {
    series_text_ = name_;
  }
  PANTAU_RETURN_IF_ERROR(CheckDuplicates(labels_));

  // Fields after the series: value [timestamp] [# exemplar] (OpenMetrics).
  auto next_field = [&](std::string_view* field) -> bool {
    if (i >= line.size()) return false;
    if (!IsSpace(line[i])) return false;
    if (om) {
      if (line[i] != ' ') return false;
      ++i;
    } else {
      while (i < line.size() && IsSpace(line[i])) ++i;
    }
    size_t start = i;
    while (i < line.size() && !IsSpace(line[i])) ++i;
    *field = line.substr(start, i - start);
    return !field->empty();
  };
  std::string_view field;
  if (!next_field(&field)) {
    return Error(absl::StrCat("expected value after ", Quote(series_text_)));
  }
  std::optional<double> v = ParseSampleValue(field);
  if (!v) return Error(absl::StrCat("invalid value ", Quote(field)));
  value_ = *v;

  size_t before = i;
  if (next_field(&field) && (!om || field != "#")) {
    if (om) {
      std::optional<double> ts = ParseSampleValue(field);
      if (!ts || !std::isfinite(*ts) || std::abs(*ts) > 9.2e15) {
        return Error(absl::StrCat("invalid timestamp ", Quote(field)));
      }
      timestamp_ms_ = static_cast<int64_t>(std::llround(*ts * 1000.0));
    } else {
      timestamp_ms_ = ParseInt64(field);
      if (!timestamp_ms_) {
        return Error(absl::StrCat("invalid timestamp ", Quote(field)));
      }
    }
    before = i;
    if (!om || !next_field(&field)) field = {};
  }
  if (field == "#" && om) {
    PANTAU_RETURN_IF_ERROR(ParseExemplar(line, i));
  } else if (!om) {
    while (i < line.size() && IsSpace(line[i])) ++i;
    if (i < line.size()) {
      return Error(
          absl::StrCat("unexpected text after sample ", Quote(line.substr(i))));
    }
  } else if (before < line.size()) {
    return Error(absl::StrCat("unexpected text after sample ",
                              Quote(line.substr(before))));
  }

  for (const Pending& p : pending_) {
    (*p.vec)[p.index].value =
        std::string_view(scratch_.data() + p.offset, p.length);
  }
  if (has_exemplar_) {
    // OpenMetrics caps an exemplar's label set (names and values) at 128
    // UTF-8 characters.
    size_t runes = 0;
    for (const auto& l : exemplar_labels_) {
      for (char c : l.name) runes += (c & 0xC0) != 0x80;
      for (char c : l.value) runes += (c & 0xC0) != 0x80;
    }
    if (runes > 128) {
      return Error("exemplar label set exceeds 128 characters");
    }
  }
  return ExpositionEntry::kSeries;
}

absl::Status ExpositionParser::ParseExemplar(std::string_view line,
                                             size_t pos) {
  // pos is just past "#"; the grammar is ` {labels} value [timestamp]`.
  size_t i = pos;
  if (i + 1 >= line.size() || line[i] != ' ' || line[i + 1] != '{') {
    return Error("expected label set after exemplar '#'");
  }
  ++i;
  PANTAU_RETURN_IF_ERROR(ParseLabels(line, &i, &exemplar_labels_));
  for (size_t a = 0; a < exemplar_labels_.size(); ++a) {
    for (size_t b = a + 1; b < exemplar_labels_.size(); ++b) {
      if (exemplar_labels_[a].name == exemplar_labels_[b].name) {
        return Error("duplicate label name in exemplar");
      }
    }
  }
  auto field = [&](std::string_view* out) -> bool {
    if (i >= line.size() || line[i] != ' ') return false;
    ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    *out = line.substr(start, i - start);
    return !out->empty();
  };
  std::string_view f;
  if (!field(&f)) return Error("expected exemplar value");
  std::optional<double> v = ParseSampleValue(f);
  if (!v) return Error(absl::StrCat("invalid exemplar value ", Quote(f)));
  exemplar_value_ = *v;
  if (field(&f)) {
    std::optional<double> ts = ParseSampleValue(f);
    if (!ts || !std::isfinite(*ts) || std::abs(*ts) > 9.2e15) {
      return Error(absl::StrCat("invalid exemplar timestamp ", Quote(f)));
    }
    exemplar_ts_ms_ = static_cast<int64_t>(std::llround(*ts * 1000.0));
  }
  if (i < line.size()) {
    return Error(
        absl::StrCat("unexpected text after exemplar ", Quote(line.substr(i))));
  }
  has_exemplar_ = true;
  return absl::OkStatus();
}

}  // namespace pantau::metrics::scrape
