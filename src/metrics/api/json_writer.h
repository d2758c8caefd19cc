// A minimal streaming JSON writer into a std::string, plus the number
// formats of Prometheus's HTTP API (sample values as strings, timestamps as
// float seconds).
//
// Hand-rolled rather than nlohmann_json because query results are the hot
// path of the API: a range query can return millions of points, and building
// a DOM first would double the memory and take several times longer than
// appending straight into the response body.
//
//   std::string out;
//   JsonWriter w(&out);
//   w.BeginObject(); w.Key("status"); w.String("success"); w.EndObject();
//
// The writer inserts commas itself; it does not validate nesting (callers
// are our own handlers). Strings are escaped as Go's encoding/json does
// (including <, >, & and U+2028/2029; invalid UTF-8 becomes U+FFFD), so
// output matches Prometheus byte for byte.
//
// Thread safety: a JsonWriter belongs to one thread.
#ifndef PANTAU_METRICS_API_JSON_WRITER_H_
#define PANTAU_METRICS_API_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "base/labels.h"

namespace pantau::metrics::api {

class JsonWriter {
 public:
  // `out` is appended to and must outlive the writer.
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }
  // An object key; the next call writes its value.
  void Key(std::string_view key);
  void String(std::string_view s);
  void Int(int64_t v);
  void Uint(uint64_t v);
  // A JSON number with Go's encoding/json float format; non-finite values
  // (which JSON cannot hold) are written as null.
  void Double(double v);
  void Bool(bool v);
  void Null();
  // Pre-rendered JSON for a value.
  void Raw(std::string_view json);
  // A sample value the Prometheus way: a quoted string, "NaN", "+Inf".
  void PromValue(double v);
  // A sample timestamp (ms) as float seconds: 1435781451.781.
  void PromTimestamp(int64_t ms);
  // [<ts>,"<value>"]
  void PromPoint(int64_t ms, double v);
  // PromPoint for each of `points` (elements with .t in ms and .v), built
  // in a stack buffer and appended a few kilobytes at a time: a range
  // query's response is mostly these.
  template <typename Points>
  void PromPoints(const Points& points);
  // A label set as an object, keys in label order.
  void LabelsObject(const base::Labels& labels);

 private:
  void Sep() {
    if (need_comma_) out_->push_back(',');
  }
  void Open(char c) {
    Sep();
    out_->push_back(c);
    need_comma_ = false;
  }
  void Close(char c) {
    out_->push_back(c);
    need_comma_ = true;
  }

  std::string* out_;
  bool need_comma_ = false;
};

namespace internal {

// Most bytes WritePromPoint writes: [, a timestamp (at most 21), ",",
// the value (at most 26, plus scratch the fast formatter may overwrite
// beyond its end), "].
inline constexpr size_t kMaxPromPointBytes = 80;
// The value as PromValue writes it, without quotes, at p; returns the end.
char* WritePromValue(char* p, double v);
// [<ts>,"<value>"] at p (kMaxPromPointBytes available); returns the end.
char* WritePromPoint(char* p, int64_t ms, double v);

}  // namespace internal

template <typename Points>
void JsonWriter::PromPoints(const Points& points) {
  char buf[4096];
  char* p = buf;
  for (const auto& pt : points) {
    if (p + 1 + internal::kMaxPromPointBytes > buf + sizeof buf) {
      out_->append(buf, p);
      p = buf;
    }
    if (need_comma_) *p++ = ',';
    p = internal::WritePromPoint(p, pt.t, pt.v);
    need_comma_ = true;
  }
  out_->append(buf, p);
}

// Appends `s` JSON-escaped (without quotes) as Go's encoding/json does.
void AppendJsonString(std::string* out, std::string_view s);

// A sample value as Prometheus writes it: strconv.FormatFloat(v, 'f', -1,
// 64), switching to 'e' for |v| < 1e-6 or >= 1e21, and "+Inf", "-Inf",
// "NaN".
void AppendPromValue(std::string* out, double v);
std::string FormatPromValue(double v);

// strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent,
// "+Inf", "-Inf", "NaN" (how Prometheus writes a scalar result's value).
std::string FormatGoFloatF(double v);

// Milliseconds as seconds with up to three decimals, as Prometheus writes
// timestamps: 1500 -> "1.500", 1000 -> "1", -1500 -> "-1.500".
void AppendPromTimestamp(std::string* out, int64_t ms);

// Go's strconv.FormatFloat(v, 'g', -1, 64) with "+Inf"/"-Inf"/"NaN": the
// text exposition format's sample values (federation).
void AppendGoFloatG(std::string* out, double v);

}  // namespace pantau::metrics::api

#endif  // PANTAU_METRICS_API_JSON_WRITER_H_
