// How messages leave the relay and reach a consumer. NatsTransport and
// WebhookTransport implement the publishing side; NatsSource the consuming
// side. Implement these for any other broker.
//
// Thread safety: the relay calls Publish from one thread; a Source is
// fetched from one thread, its Deliveries acked from that thread, unless it
// says CanFetchAhead.
#ifndef PANTAU_OUTBOX_TRANSPORT_H_
#define PANTAU_OUTBOX_TRANSPORT_H_

#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pantau/outbox/message.h"

namespace pantau::outbox {

class Transport {
 public:
  virtual ~Transport() = default;
  // The OpenTelemetry messaging.system value, e.g. "nats".
  virtual std::string_view system() const = 0;
  // Publishes every message of `batch` and waits, at most `timeout`, for
  // the broker's acknowledgement of each. Returns one status per message,
  // in batch order; OK means the broker has it durably. The relay puts at
  // most one message per key in a call, so they may go out concurrently.
  // The message id must travel with the message (the consumer's inbox and
  // the broker's dedup rely on it). Return InvalidArgument for a message
  // the receiver will never accept: the relay dead-letters it at once
  // instead of retrying.
  virtual std::vector<absl::Status> Publish(const std::vector<Message>& batch,
                                            absl::Duration timeout) = 0;
};

// One received message awaiting acknowledgement.
class Delivery {
 public:
  virtual ~Delivery() = default;
  virtual const Message& message() const = 0;
  // Done: the broker will not redeliver it.
  virtual absl::Status Ack() = 0;
  // Failed: redeliver after `delay`.
  virtual absl::Status Nak(absl::Duration delay) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  virtual std::string_view system() const = 0;
  // Up to `max` messages, waiting at most `timeout` for the first. An empty
  // result is not an error.
  virtual absl::StatusOr<std::vector<std::unique_ptr<Delivery>>> Fetch(
      int max, absl::Duration timeout) = 0;
  // True when Fetch may run on one thread while the Deliveries of an
  // earlier Fetch are acked or naked on another. Consumer then fetches the
  // next batch while it handles the current one.
  virtual bool CanFetchAhead() const { return false; }
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_TRANSPORT_H_
