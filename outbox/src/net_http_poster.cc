#include "pantau/outbox/net_http_poster.h"

#include "net/http_client.h"

namespace pantau::outbox {

NetHttpPoster::NetHttpPoster() {
  net::HttpClient::Options o;
  o.user_agent = "pantau-outbox/0.1";
  // Webhook answers are small and need no decoding.
  o.accept_gzip = false;
  o.max_response_bytes = 1 << 20;
  client_ = std::make_unique<net::HttpClient>(o);
}

NetHttpPoster::~NetHttpPoster() = default;

absl::StatusOr<int> NetHttpPoster::Post(
    const std::string& url,
    const std::vector<std::pair<std::string, std::string>>& headers,
    const std::string& body, absl::Duration timeout) {
  net::HttpClientRequest req;
  req.method = "POST";
  req.url = url;
  for (const auto& [k, v] : headers) req.headers.Add(k, v);
  req.body = body;
  req.timeout = timeout;
  absl::StatusOr<net::HttpClientResponse> resp = client_->Do(req);
  if (!resp.ok()) return resp.status();
  return resp->status;
}

}  // namespace pantau::outbox
