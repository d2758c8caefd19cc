// SpanData: a finished (or in-progress) span as processors and exporters
// see it, and the SpanProcessor / SpanExporter interfaces that move it out
// of the process.
//
// Thread safety: SpanData is a value owned by one thread at a time.
// Processors and exporters must be safe to call from any thread.
#ifndef PANTAU_SDK_SPAN_DATA_H_
#define PANTAU_SDK_SPAN_DATA_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pantau/sdk/attributes.h"
#include "pantau/sdk/span_context.h"

namespace pantau::sdk {

class Resource;

// Values are the OTLP enum numbers.
enum class SpanKind {
  kUnspecified = 0,
  kInternal = 1,
  kServer = 2,
  kClient = 3,
  kProducer = 4,
  kConsumer = 5,
};

enum class StatusCode { kUnset = 0, kOk = 1, kError = 2 };

struct InstrumentationScope {
  std::string name;
  std::string version;
};

struct SpanEvent {
  std::string name;
  int64_t time_unix_nano = 0;
  Attributes attributes;
};

struct SpanLink {
  SpanContext context;
  Attributes attributes;
};

struct SpanData {
  SpanContext context;
  SpanId parent_span_id;  // invalid (zero) for a root span
  bool parent_is_remote = false;
  std::string name;
  SpanKind kind = SpanKind::kInternal;
  int64_t start_time_unix_nano = 0;
  int64_t end_time_unix_nano = 0;
  Attributes attributes;
  std::vector<SpanEvent> events;
  std::vector<SpanLink> links;
  StatusCode status_code = StatusCode::kUnset;
  std::string status_message;
  uint32_t dropped_attributes = 0;
  uint32_t dropped_events = 0;
  uint32_t dropped_links = 0;
  // Owned by the TracerProvider, which outlives its spans' export (it
  // flushes its processors on shutdown). Null in hand-made test data.
  const Resource* resource = nullptr;
  const InstrumentationScope* scope = nullptr;
  // Limits from the provider, consulted while recording.
  uint32_t max_attributes = 128;
  uint32_t max_events = 128;
  uint32_t max_links = 128;
};

// Receives every ended sampled span.
class SpanProcessor {
 public:
  virtual ~SpanProcessor() = default;
  // Called on the thread that ended the span; must be quick.
  virtual void OnEnd(std::unique_ptr<SpanData> span) = 0;
  virtual absl::Status ForceFlush(absl::Duration timeout) = 0;
  virtual absl::Status Shutdown(absl::Duration timeout) = 0;
};

// Sends batches of spans somewhere (OTLP, memory for tests).
class SpanExporter {
 public:
  virtual ~SpanExporter() = default;
  // Called by one processor thread at a time. Returns an error when the
  // batch was not delivered (after the exporter's own retries).
  virtual absl::Status Export(
      const std::vector<std::unique_ptr<SpanData>>& batch) = 0;
  virtual absl::Status Shutdown() { return absl::OkStatus(); }
};

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_SPAN_DATA_H_
