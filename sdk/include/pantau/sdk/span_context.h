// The identity of a span as it travels between processes (W3C Trace
// Context): trace id, span id, trace flags and trace state. Also the
// per-thread "active span context" that logs stamp on records and
// histograms attach as exemplars; trace.h's Scope sets it.
//
// Thread safety: TraceId, SpanId and SpanContext are values. The active
// context is thread-local, so each thread sees only its own.
#ifndef PANTAU_SDK_SPAN_CONTEXT_H_
#define PANTAU_SDK_SPAN_CONTEXT_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pantau::sdk {

// 16 bytes; all zero is invalid.
struct TraceId {
  std::array<uint8_t, 16> bytes{};

  bool IsValid() const;
  // 32 lowercase hex digits.
  std::string ToHex() const;
  // Accepts exactly 32 hex digits (either case); nullopt otherwise. An
  // all-zero id parses (callers check IsValid()).
  static std::optional<TraceId> FromHex(std::string_view hex);
  // A random valid id (fast thread-local generator, not cryptographic).
  static TraceId Random();
  friend bool operator==(const TraceId&, const TraceId&) = default;
};

// 8 bytes; all zero is invalid.
struct SpanId {
  std::array<uint8_t, 8> bytes{};

  bool IsValid() const;
  // 16 lowercase hex digits.
  std::string ToHex() const;
  static std::optional<SpanId> FromHex(std::string_view hex);
  static SpanId Random();
  friend bool operator==(const SpanId&, const SpanId&) = default;
};

inline constexpr uint8_t kTraceFlagSampled = 0x01;

struct SpanContext {
  TraceId trace_id;
  SpanId span_id;
  uint8_t trace_flags = 0;
  // The raw W3C tracestate header value, already validated; "" when none.
  std::string trace_state;
  // True when this context was extracted from an incoming request.
  bool is_remote = false;

  bool IsValid() const { return trace_id.IsValid() && span_id.IsValid(); }
  bool IsSampled() const { return (trace_flags & kTraceFlagSampled) != 0; }
};

namespace internal {

// The innermost active span context on this thread, or nullptr. Inline
// thread_local so that an unsampled histogram observation or log record
// costs a single TLS load to find out there is nothing to stamp.
// initial-exec: a plain %fs-relative access even in -fPIC code (pantau's
// libraries are static; a shared library with this SDK still loads, using
// glibc's reserved static TLS).
__attribute__((
    tls_model("initial-exec"))) inline thread_local const SpanContext*
    tls_active_span_context = nullptr;

// 64 random bits from a per-thread wyrand generator
// seeded from std::random_device. Hand-written because ids are made on the
// span hot path and std::mt19937_64 is large and slower.
uint64_t RandomU64();

}  // namespace internal

// The active span context on this thread (nullptr when no span is active).
inline const SpanContext* ActiveSpanContext() {
  return internal::tls_active_span_context;
}

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_SPAN_CONTEXT_H_
