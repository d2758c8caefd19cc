// The unit the outbox stores and the relay publishes, plus UUIDv7 ids.
//
// A Message is a plain value; copying it copies the payload. Ids are
// UUIDv7 in canonical text form (36 chars), so they sort by creation time
// and make good primary keys in both stores.
//
// Thread safety: Message is a value type. NewMessageId() is thread-safe.
#ifndef PANTAU_OUTBOX_MESSAGE_H_
#define PANTAU_OUTBOX_MESSAGE_H_

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pantau::outbox {

// Header names the library itself reads or writes.
inline constexpr char kTraceparentHeader[] = "traceparent";
inline constexpr char kTracestateHeader[] = "tracestate";

struct Message {
  // UUIDv7 text. Enqueue fills it when empty.
  std::string id;
  // Where the message goes: a NATS subject, a webhook route name.
  std::string topic;
  // The ordering key: messages with the same key are published strictly in
  // enqueue order. Empty is a key like any other.
  std::string key;
  // What the payload is, e.g. "order.created".
  std::string type;
  // Opaque bytes.
  std::string payload;
  // Free-form metadata; `traceparent` carries the producer's span context.
  std::map<std::string, std::string> headers;
  // Set by Enqueue when InfinitePast().
  absl::Time created_at = absl::InfinitePast();
  // Relay bookkeeping: publish attempts so far, when the next may happen,
  // and the last publish error.
  int attempts = 0;
  absl::Time next_attempt_at = absl::InfinitePast();
  std::string last_error;
};

// A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits. Ids
// generated in one process are strictly increasing, also within one
// millisecond (the 12-bit rand_a field counts up).
std::string NewMessageId();
std::string NewMessageId(absl::Time now);

// True when `id` is canonical UUID text (8-4-4-4-12 lowercase or uppercase
// hex).
bool IsValidUuid(std::string_view id);

// The millisecond timestamp of a UUIDv7, or an error when `id` is not one.
absl::StatusOr<absl::Time> UuidV7Time(std::string_view id);

// Headers as a JSON object of strings, the form both stores keep them in.
// Plain ASCII headers take a fast path; the result is the same either way.
std::string EncodeHeaders(const std::map<std::string, std::string>& headers);
absl::StatusOr<std::map<std::string, std::string>> DecodeHeaders(
    std::string_view json);

namespace internal {
// DecodeHeaders without the fast path: the general JSON parser, which the
// fast path must always agree with (tests and the fuzzer check that).
absl::StatusOr<std::map<std::string, std::string>> DecodeHeadersJson(
    std::string_view json);
}  // namespace internal

// Fills what Enqueue fills: the id (when empty), created_at and
// next_attempt_at (when unset, to `now`), and the trace context from the
// installed Instrumentation (when `traceparent` is absent). Fails when a
// given id is not a UUID or topic is empty.
absl::Status PrepareForEnqueue(Message& m, absl::Time now);

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_MESSAGE_H_
