// Serializes HTTP/1.1 messages: responses for the server (with response
// compression) and requests for the client. Hand-written rather than
// Beast's serializer: it is a few lines, runs for every response, and
// keeps Beast out of one more translation unit.
//
// Internal to pantau::net.
//
// Thread safety: pure functions.
#ifndef PANTAU_NET_INTERNAL_MESSAGE_WRITER_H_
#define PANTAU_NET_INTERNAL_MESSAGE_WRITER_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "net/http_headers.h"
#include "net/http_response.h"

namespace pantau::net::internal {

// What the server knows about the request when it writes the response.
struct ResponseContext {
  bool head = false;               // HEAD: send headers only
  bool accept_gzip = false;        // the client sent Accept-Encoding: gzip
  bool close = false;              // send Connection: close
  bool http10_keep_alive = false;  // HTTP/1.0 client that asked keep-alive
  size_t gzip_min_bytes = 1024;    // 0 disables compression
  int gzip_level = 1;
  absl::Time now = absl::Now();
};

// Gzips the body when the client accepts it and it is worthwhile (sets
// Content-Encoding and Vary). The CPU-heavy half: the server runs it on the
// handler's pool thread.
void CompressResponse(HttpResponse& response, const ResponseContext& ctx);

// Renders the status line and headers (Date, Content-Length, Connection
// owned here). Afterwards `response.body` is what to send after the head
// (cleared for HEAD and for 1xx, 204 and 304 responses).
std::string SerializeResponseHead(HttpResponse& response,
                                  const ResponseContext& ctx);

// CompressResponse then SerializeResponseHead.
std::string FinishResponse(HttpResponse& response, const ResponseContext& ctx);

// "HTTP/1.1 <status> <reason>\r\nContent-Type: text/plain...\r\n\r\n<msg>\n"
// with Connection: close, for protocol errors answered before routing.
std::string SerializeErrorResponse(int status, std::string_view message,
                                   absl::Time now);

// A request head for the client: request line, Host, the given headers,
// Content-Length (when there is a body or the method usually has one).
std::string SerializeRequestHead(std::string_view method,
                                 std::string_view target,
                                 std::string_view host_header,
                                 const HttpHeaders& headers, size_t body_size);

// An IMF-fixdate for the Date header: "Tue, 24 Nov 2026 10:00:00 GMT".
std::string HttpDate(absl::Time t);

}  // namespace pantau::net::internal

#endif  // PANTAU_NET_INTERNAL_MESSAGE_WRITER_H_
