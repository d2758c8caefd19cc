// HttpClient: a small synchronous HTTP/1.1 client for scraping, alert
// notifications and the SDK's OTLP/HTTP exporter.
//
// Do() sends one request and returns the response (any status code; only
// transport failures are errors). Keep-alive connections are pooled per
// host:port and reused. Responses are gzip-decoded transparently when the
// client asked for gzip itself (as Go's transport does).
//
// Supported: http:// URLs only — https:// fails with UNIMPLEMENTED (TLS is
// not supported yet). Host names are resolved with getaddrinfo, which has
// no timeout of its own; the request timeout covers connect, send and
// receive.
//
// Thread safety: Do() may be called concurrently from any number of
// threads; each call uses its own connection.
#ifndef PANTAU_NET_HTTP_CLIENT_H_
#define PANTAU_NET_HTTP_CLIENT_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "net/http_headers.h"

namespace pantau::net {

struct HttpClientRequest {
  std::string method = "GET";
  std::string url;  // "http://host:port/path?query"
  HttpHeaders headers;
  std::string body;  // sent as is; set Content-Encoding yourself if encoded
  // Zero means the client's default (Options::timeout etc.).
  absl::Duration timeout = absl::ZeroDuration();  // whole request
  absl::Duration connect_timeout = absl::ZeroDuration();
  size_t max_response_bytes = 0;  // body after decoding
};

struct HttpClientResponse {
  int status = 0;
  // As received, except Content-Encoding is removed when the client
  // decoded the body.
  HttpHeaders headers;
  std::string body;
};

class HttpClient {
 public:
  struct Options {
    // Sent unless the request sets User-Agent.
    std::string user_agent = "pantau/0.1";
    absl::Duration timeout = absl::Seconds(30);
    absl::Duration connect_timeout = absl::Seconds(5);
    size_t max_response_bytes = 64 << 20;
    size_t max_header_bytes = 1 << 20;
    // Idle keep-alive connections kept per host:port; 0 disables reuse.
    int max_idle_per_host = 4;
    // Pooled connections idle longer than this are not reused.
    absl::Duration idle_timeout = absl::Seconds(60);
    // Send Accept-Encoding: gzip (unless the request sets Accept-Encoding)
    // and decode gzip responses.
    bool accept_gzip = true;
  };

  HttpClient();
  explicit HttpClient(Options options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Errors: INVALID_ARGUMENT (bad URL or method), UNIMPLEMENTED (https),
  // UNAVAILABLE (cannot resolve or connect, connection reset),
  // DEADLINE_EXCEEDED (timeout), RESOURCE_EXHAUSTED (response over the
  // size limits). A reused keep-alive connection that turns out closed is
  // retried once on a new one for idempotent methods (GET, HEAD, OPTIONS,
  // PUT, DELETE).
  absl::StatusOr<HttpClientResponse> Do(const HttpClientRequest& request);

  absl::StatusOr<HttpClientResponse> Get(std::string_view url);
  absl::StatusOr<HttpClientResponse> Post(std::string_view url,
                                          std::string_view content_type,
                                          std::string body);

  // Closes the pooled idle connections.
  void CloseIdleConnections();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pantau::net

#endif  // PANTAU_NET_HTTP_CLIENT_H_
