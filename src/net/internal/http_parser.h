// Incremental HTTP/1.1 message parsers over Boost.Beast, behind a
// Beast-free interface so only http_parser.cc pays Beast's compile cost.
// The server, the client and the fuzz target all parse through these.
//
// Internal to pantau::net.
//
// Thread safety: one reader per connection, used by one thread at a time.
#ifndef PANTAU_NET_INTERNAL_HTTP_PARSER_H_
#define PANTAU_NET_INTERNAL_HTTP_PARSER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "net/http_headers.h"
#include "net/http_request.h"
#include "net/protocol_error.h"

namespace pantau::net::internal {

// Reads one request. Feed bytes; the reader stops once the header is done
// so the caller can pick the body limit for the route (SetBodyLimit), then
// takes the body. Bytes it did not consume must be fed again with more
// appended (the header must be contiguous; it is bounded by
// max_header_bytes). Bytes after a complete request are left unconsumed
// (the next pipelined request).
class RequestReader {
 public:
  explicit RequestReader(size_t max_header_bytes);
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Returns the number of bytes consumed.
  size_t Feed(std::string_view data);

  bool header_done() const;
  bool done() const;
  // Set once parsing failed; the connection must be closed after answering.
  const std::optional<ProtocolErrorDetail>& error() const { return error_; }

  // Valid once header_done().
  std::string_view method() const;
  std::string_view target() const;
  std::string_view header(std::string_view name) const;
  std::optional<uint64_t> content_length() const;
  bool expects_continue() const;
  bool keep_alive() const;

  // Call once after header_done(), before feeding body bytes. Sets error()
  // (413) when Content-Length already exceeds `max_body_bytes`; a chunked
  // body fails once its decoded chunks exceed it.
  void SetBodyLimit(size_t max_body_bytes);

  // Once done(): the request as received (method, target, version,
  // headers, raw body). Path, params and body decoding are
  // PrepareRequest's (request_prep.h).
  HttpRequest TakeRequest();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::optional<ProtocolErrorDetail> error_;
  bool body_limit_set_ = false;
};

// A response as the client reads it.
struct ParsedResponse {
  int status = 0;
  int version = 11;
  HttpHeaders headers;
  std::string body;  // as received (still Content-Encoded)
  bool keep_alive = false;
};

// Reads one response. `head_request` makes it expect no body. Errors:
// RESOURCE_EXHAUSTED past the limits, INVALID_ARGUMENT when malformed.
class ResponseReader {
 public:
  ResponseReader(size_t max_header_bytes, size_t max_body_bytes,
                 bool head_request);
  ~ResponseReader();
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  // Returns the number of bytes consumed; see RequestReader::Feed.
  size_t Feed(std::string_view data);
  // The peer closed the connection (some responses end at EOF).
  void FeedEof();

  bool done() const;
  // True once any byte of the response was parsed.
  bool started() const { return started_; }
  const absl::Status& status() const { return status_; }
  ParsedResponse TakeResponse();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  absl::Status status_;
  bool started_ = false;
};

}  // namespace pantau::net::internal

#endif  // PANTAU_NET_INTERNAL_HTTP_PARSER_H_
