#include "metrics/api/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace pantau::metrics::api {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of a valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' ||
         c == '&' || c >= 0x80;
}

// Shortest round-trip digits of a finite double in the given format.
void AppendChars(std::string* out, double v, std::chars_format fmt) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, fmt);
  out->append(buf, res.ptr);
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  size_t i = 0;
  size_t start = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8SeqLen(s, i);
      if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
        // U+2028 / U+2029 break JavaScript string literals.
        out->append(s.data() + start, i - start);
        out->append((s[i + 2] & 1) ? "\\u2029" : "\\u2028");
        i += 3;
        start = i;
        continue;
      }
      if (n > 0) {
        i += n;
        continue;
      }
      out->append(s.data() + start, i - start);
      out->append("\\ufffd");
      ++i;
      start = i;
      continue;
    }
    out->append(s.data() + start, i - start);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:  // other control characters and <, >, &
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
    ++i;
    start = i;
  }
  out->append(s.data() + start, s.size() - start);
}

void AppendPromValue(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  double a = std::fabs(v);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    AppendChars(out, v, std::chars_format::scientific);
  } else {
    AppendChars(out, v, std::chars_format::fixed);
  }
}

std::string FormatPromValue(double v) {
  std::string s;
  AppendPromValue(&s, v);
  return s;
}

std::string FormatGoFloatF(double v) {
  std::string s;
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  AppendChars(&s, v, std::chars_format::fixed);
  return s;
}

void AppendPromTimestamp(std::string* out, int64_t ms) {
  char buf[32];
  uint64_t u;
  if (ms < 0) {
    out->push_back('-');
    u = static_cast<uint64_t>(-(ms + 1)) + 1;
  } else {
    u = static_cast<uint64_t>(ms);
  }
  auto res = std::to_chars(buf, buf + sizeof buf, u / 1000);
  out->append(buf, res.ptr);
  unsigned frac = static_cast<unsigned>(u % 1000);
  if (frac != 0) {
    char f[4] = {'.', static_cast<char>('0' + frac / 100),
                 static_cast<char>('0' + frac / 10 % 10),
                 static_cast<char>('0' + frac % 10)};
    out->append(f, 4);
  }
}

void AppendGoFloatG(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // strconv's shortest 'g' picks %e when the decimal exponent is < -4
  // or >= 6 (its eprec is fixed at 6 when the precision is -1), so
  // 1e6 -> "1e+06" and 123456 -> "123456".
  char buf[64];
  auto res =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  size_t e = sci.find('e');
  int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  constexpr int eprec = 6;
  if (exp < -4 || exp >= eprec) {
    out->append(sci);
  } else {
    AppendChars(out, v, std::chars_format::fixed);
  }
}

void JsonWriter::Key(std::string_view key) {
  Sep();
  out_->push_back('"');
  AppendJsonString(out_, key);
  out_->append("\":");
  need_comma_ = false;
}

void JsonWriter::String(std::string_view s) {
  Sep();
  out_->push_back('"');
  AppendJsonString(out_, s);
  out_->push_back('"');
  need_comma_ = true;
}

void JsonWriter::Int(int64_t v) {
  Sep();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, res.ptr);
  need_comma_ = true;
}

void JsonWriter::Uint(uint64_t v) {
  Sep();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, res.ptr);
  need_comma_ = true;
}

void JsonWriter::Double(double v) {
  Sep();
  if (!std::isfinite(v)) {
    out_->append("null");
  } else {
    // encoding/json: 'f' unless the exponent is < -6 or >= 21, and then
    // "1e-07" is shortened to "1e-7".
    double a = std::fabs(v);
    if (a != 0 && (a < 1e-6 || a >= 1e21)) {
      size_t from = out_->size();
      AppendChars(out_, v, std::chars_format::scientific);
      size_t n = out_->size();
      if (n - from >= 4 && (*out_)[n - 4] == 'e' && (*out_)[n - 3] == '-' &&
          (*out_)[n - 2] == '0') {
        out_->erase(n - 2, 1);
      }
    } else {
      AppendChars(out_, v, std::chars_format::fixed);
    }
  }
  need_comma_ = true;
}

void JsonWriter::Bool(bool v) {
  Sep();
  out_->append(v ? "true" : "false");
  need_comma_ = true;
}

void JsonWriter::Null() {
  Sep();
  out_->append("null");
  need_comma_ = true;
}

void JsonWriter::Raw(std::string_view json) {
  Sep();
  out_->append(json);
  need_comma_ = true;
}

void JsonWriter::PromValue(double v) {
  Sep();
  out_->push_back('"');
  AppendPromValue(out_, v);
  out_->push_back('"');
  need_comma_ = true;
}

void JsonWriter::PromTimestamp(int64_t ms) {
  Sep();
  AppendPromTimestamp(out_, ms);
  need_comma_ = true;
}

void JsonWriter::PromPoint(int64_t ms, double v) {
  Sep();
  out_->push_back('[');
  AppendPromTimestamp(out_, ms);
  out_->append(",\"");
  AppendPromValue(out_, v);
  out_->append("\"]");
  need_comma_ = true;
}

void JsonWriter::LabelsObject(const base::Labels& labels) {
  BeginObject();
  for (const base::LabelView& l : labels) {
    Key(l.name);
    String(l.value);
  }
  EndObject();
}

}  // namespace pantau::metrics::api
