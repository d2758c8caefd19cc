// HttpPoster over pantau::net::HttpClient (http:// only), for
// WebhookTransport. Link `pantau_outbox_webhook`.
//
// Thread safety: Post is thread-safe (HttpClient pools connections).
#ifndef PANTAU_OUTBOX_NET_HTTP_POSTER_H_
#define PANTAU_OUTBOX_NET_HTTP_POSTER_H_

#include <memory>

#include "pantau/outbox/webhook_transport.h"

namespace pantau::net {
class HttpClient;
}

namespace pantau::outbox {

class NetHttpPoster : public HttpPoster {
 public:
  NetHttpPoster();
  ~NetHttpPoster() override;
  absl::StatusOr<int> Post(
      const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, absl::Duration timeout) override;

 private:
  std::unique_ptr<net::HttpClient> client_;
};

}  // namespace pantau::outbox

#endif  // PANTAU_OUTBOX_NET_HTTP_POSTER_H_
