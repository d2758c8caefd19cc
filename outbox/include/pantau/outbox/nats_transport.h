// NATS JetStream transport (publishing side) and source (consuming side),
// over Debian's libnats. Link `pantau_outbox_nats`.
//
// Publishing sends each message to subject = topic with `Nats-Msg-Id` =
// message id, so the stream drops a republished duplicate within its
// duplicate window, and waits for JetStream's publish ack: only an acked
// message counts as delivered. A batch is published at once, with reply
// subjects of the transport's own inbox, and its acks are read from one
// subscription: no callback thread, no per-message bookkeeping in libnats. The
// key, type and created_at travel in the `Pantau-Key`, `Pantau-Type` and
// `Pantau-Created-At` headers; the message's own headers (traceparent included)
// travel as they are.
//
// The client reconnects on its own after a server restart; publishes and
// fetches fail with Unavailable meanwhile and are retried by their callers.
//
// NatsSource sends its own JetStream pull requests (batch, no_wait first,
// then expires) to a private inbox instead of using libnats' Fetch, which in
// 3.4.1 overruns its array when deliveries of an earlier request are still
// arriving. Deliveries of a request that outlived its Fetch (e.g. one
// buffered during a reconnect) are handed out by the next Fetch.
//
// Thread safety: NatsTransport::Publish and NatsSource::Fetch may be called
// from several threads (calls are serialised internally). A Delivery may be
// acked from any thread and may outlive its NatsSource: it keeps the
// connection open until it is destroyed.
#ifndef PANTAU_OUTBOX_NATS_TRANSPORT_H_
#define PANTAU_OUTBOX_NATS_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pantau/outbox/transport.h"

namespace pantau::outbox {

struct NatsOptions {
  // Server URL(s), comma-separated.
  std::string url = "nats://127.0.0.1:4222";
  // When set, the stream is created if missing with `subjects` and
  // `duplicate_window` (file storage).
  std::string stream;
  std::vector<std::string> subjects;
  absl::Duration duplicate_window = absl::Minutes(2);
  // Timeout of the initial connect and of JetStream API requests.
  absl::Duration timeout = absl::Seconds(2);
  // Wait between reconnect attempts (the client retries forever).
  absl::Duration reconnect_wait = absl::Milliseconds(250);
  // Connection name shown by the server.
  std::string name = "pantau-outbox";
};

class NatsConnection;

class NatsTransport : public Transport {
 public:
  static absl::StatusOr<std::unique_ptr<NatsTransport>> Connect(
      const NatsOptions& options);
  ~NatsTransport() override;

  std::string_view system() const override { return "nats"; }
  std::vector<absl::Status> Publish(const std::vector<Message>& batch,
                                    absl::Duration timeout) override;

  struct State;

 private:
  explicit NatsTransport(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

struct NatsSourceOptions {
  // The durable consumer's name; the server remembers its position.
  std::string durable = "pantau";
  // The subject (filter) to consume, e.g. "orders.>".
  std::string subject;
  // How long the server waits for an ack before redelivering.
  absl::Duration ack_wait = absl::Seconds(30);
  // Unacked messages the server hands out at most.
  int max_ack_pending = 10000;
};

class NatsSource : public Source {
 public:
  static absl::StatusOr<std::unique_ptr<NatsSource>> Connect(
      const NatsOptions& options, const NatsSourceOptions& source);
  ~NatsSource() override;

  std::string_view system() const override { return "nats"; }
  absl::StatusOr<std::vector<std::unique_ptr<Delivery>>> Fetch(
      int max, absl::Duration timeout) override;
  bool CanFetchAhead() const override { return true; }

  struct State;

 private:
  explicit NatsSource(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_NATS_TRANSPORT_H_
