#include "metrics/scrape/net_fetcher.h"

#include "net/http_client.h"

namespace pantau::metrics::scrape {

absl::StatusOr<FetchResponse> NetFetcher::Fetch(const FetchRequest& request) {
  net::HttpClientRequest req;
  req.method = "GET";
  req.url = request.url;
  req.timeout = request.timeout;
  req.max_response_bytes = request.max_body_bytes;
  // The loop sets Accept-Encoding itself, so the client passes gzip bodies
  // through and the loop decodes them under its own size limit.
  for (const auto& [name, value] : request.headers) {
    req.headers.Add(name, value);
  }
  absl::StatusOr<net::HttpClientResponse> resp = client_->Do(req);
  if (!resp.ok()) return resp.status();
  FetchResponse out;
  out.status = resp->status;
  out.content_type = std::string(resp->headers.Get("Content-Type"));
  out.content_encoding = std::string(resp->headers.Get("Content-Encoding"));
  out.body = std::move(resp->body);
  return out;
}

}  // namespace pantau::metrics::scrape
