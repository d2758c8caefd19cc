// W3C Trace Context (`traceparent`, `tracestate`) and W3C Baggage
// (`baggage`), injected into and extracted from any header-like carrier.
//
//   // Server: continue the caller's trace (or start a new one).
//   std::optional<SpanContext> parent = ExtractTraceContext(carrier);
//   Span span = tracer.StartSpan("GET /x", {.kind = SpanKind::kServer,
//                                           .parent = parent ? &*parent
//                                                            : nullptr,
//                                           .root = !parent});
//   // Client: pass the current span on.
//   InjectTraceContext(span.context(), carrier);
//
// Extraction never fails loudly: a missing, repeated or malformed
// traceparent yields nullopt (the caller starts a new trace); an invalid
// tracestate is dropped while a valid traceparent is still used, as the
// specification requires.
//
// Thread safety: pure functions; carriers are the caller's.
#ifndef PANTAU_SDK_PROPAGATION_H_
#define PANTAU_SDK_PROPAGATION_H_

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pantau/sdk/span_context.h"

namespace pantau::sdk {

inline constexpr std::string_view kTraceparentHeader = "traceparent";
inline constexpr std::string_view kTracestateHeader = "tracestate";
inline constexpr std::string_view kBaggageHeader = "baggage";

// Where headers are read from and written to (HTTP headers, message
// properties). Names are compared case-insensitively by implementations.
class TextMapCarrier {
 public:
  virtual ~TextMapCarrier() = default;
  // Every value of `name`, in order (empty when absent).
  virtual std::vector<std::string_view> GetAll(std::string_view name) const = 0;
  // Replaces every value of `name` with `value`.
  virtual void Set(std::string_view name, std::string value) = 0;
};

// A carrier over an ordered list of pairs, e.g. for tests or messages.
class PairCarrier : public TextMapCarrier {
 public:
  PairCarrier() = default;
  PairCarrier(std::initializer_list<std::pair<std::string, std::string>> pairs)
      : pairs_(pairs) {}
  explicit PairCarrier(std::vector<std::pair<std::string, std::string>> pairs)
      : pairs_(std::move(pairs)) {}
  std::vector<std::string_view> GetAll(std::string_view name) const override;
  void Set(std::string_view name, std::string value) override;
  const std::vector<std::pair<std::string, std::string>>& pairs() const {
    return pairs_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// Parses one traceparent value (version 00, or a future version read as
// 00 when it is at least as long and continues with '-'). Leading and
// trailing spaces/tabs are allowed. nullopt when invalid, including all-zero
// ids, uppercase hex and version ff.
std::optional<SpanContext> ParseTraceparent(std::string_view value);
// "00-<trace id>-<span id>-<flags>".
std::string FormatTraceparent(const SpanContext& context);

// Validates and normalises tracestate values (repeated headers are joined
// with ','): list members key=value separated by ',' with optional
// whitespace; empty members are skipped. nullopt when any member is
// invalid, a key repeats, or there are more than 32 members.
std::optional<std::string> ParseTracestate(
    const std::vector<std::string_view>& values);

// The remote parent from `carrier`, with is_remote set; nullopt when there
// is no usable traceparent (absent, repeated or malformed).
std::optional<SpanContext> ExtractTraceContext(const TextMapCarrier& carrier);
// Writes traceparent (and tracestate when non-empty); does nothing for an
// invalid context.
void InjectTraceContext(const SpanContext& context, TextMapCarrier& carrier);

// W3C Baggage: application key/values that travel with a request.
class Baggage {
 public:
  struct Entry {
    std::string key;
    std::string value;     // decoded
    std::string metadata;  // raw properties after ';', "" when none
  };

  // Limits from the W3C specification.
  static constexpr size_t kMaxEntries = 180;
  static constexpr size_t kMaxBytes = 8192;

  // Parses header values (repeated headers are concatenated). Invalid
  // members are skipped; parsing stops at the limits.
  static Baggage Parse(const std::vector<std::string_view>& values);

  // The value for `key`, or nullopt.
  std::optional<std::string_view> Get(std::string_view key) const;
  // Sets or replaces; fails (returns false) for a key that is not an HTTP
  // token.
  bool Set(std::string key, std::string value, std::string metadata = "");
  void Remove(std::string_view key);
  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }

  // The header value, values percent-encoded; "" when empty. Entries that
  // would exceed kMaxBytes are left out.
  std::string ToHeader() const;

 private:
  std::vector<Entry> entries_;
};

Baggage ExtractBaggage(const TextMapCarrier& carrier);
// Writes the baggage header, or nothing when `baggage` is empty.
void InjectBaggage(const Baggage& baggage, TextMapCarrier& carrier);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_PROPAGATION_H_
