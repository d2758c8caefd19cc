// HTTP webhook transport: each message becomes one POST whose body is the
// payload and whose headers carry the id and metadata, so the receiving
// service can feed its inbox (see DecodeWebhook).
//
//   POST <url for topic>
//   Content-Type: <headers["content-type"] or application/octet-stream>
//   Idempotency-Key: <id>          Pantau-Message-Id: <id>
//   Pantau-Topic / Pantau-Key / Pantau-Type / Pantau-Created-At (Unix ms)
//   traceparent: ...               (and every other message header)
//
// 2xx is delivered. 408, 429 and 5xx (and transport errors) are retried
// with backoff; any other status is permanent (InvalidArgument) and the
// relay dead-letters the message at once.
//
// The HTTP client is behind HttpPoster so the transport does not pull an
// HTTP stack into applications that do not use it; NetHttpPoster (target
// pantau_outbox_webhook) adapts pantau::net::HttpClient.
//
// Thread safety: Publish from one thread at a time; the poster must be
// thread-safe (posts of one batch run concurrently).
#ifndef PANTAU_OUTBOX_WEBHOOK_TRANSPORT_H_
#define PANTAU_OUTBOX_WEBHOOK_TRANSPORT_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "pantau/outbox/transport.h"

namespace pantau::outbox {

class HttpPoster {
 public:
  virtual ~HttpPoster() = default;
  // POSTs `body` to `url` and returns the HTTP status code, or an error
  // when no response arrived within `timeout`.
  virtual absl::StatusOr<int> Post(
      const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, absl::Duration timeout) = 0;
};

struct WebhookOptions {
  // Where a topic's messages go. Default: base_url + "/" + topic.
  std::string base_url;
  std::function<std::string(const std::string& topic)> url_for_topic;
  // Posts in flight at once within one batch.
  int concurrency = 8;
};

class WebhookTransport : public Transport {
 public:
  // `poster` not owned; must outlive this.
  WebhookTransport(WebhookOptions options, HttpPoster* poster);
  std::string_view system() const override { return "webhook"; }
  std::vector<absl::Status> Publish(const std::vector<Message>& batch,
                                    absl::Duration timeout) override;

  // The request headers for `m` (exposed for tests and for custom posters).
  static std::vector<std::pair<std::string, std::string>> RequestHeaders(
      const Message& m);
  // Maps an HTTP status to the publish result described above.
  static absl::Status StatusFromHttp(int code);

 private:
  WebhookOptions options_;
  HttpPoster* poster_;
};

// Rebuilds the message from a received webhook request: header names are
// matched case-insensitively; `body` becomes the payload. Fails when the
// id header is missing or not a UUID, or the topic header is missing.
absl::StatusOr<Message> DecodeWebhook(
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::string body);

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_WEBHOOK_TRANSPORT_H_
