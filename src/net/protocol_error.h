// The protocol errors the HTTP server answers itself, before routing, and
// reports to HttpServer::Options::on_protocol_error so the server module can
// count them by reason.
//
// Thread safety: pure functions.
#ifndef PANTAU_NET_PROTOCOL_ERROR_H_
#define PANTAU_NET_PROTOCOL_ERROR_H_

#include <string>
#include <string_view>

namespace pantau::net {

enum class ProtocolError {
  kMalformed,            // 400: bad request line, header or chunk framing
  kHeaderTooLarge,       // 431: header over max_header_bytes
  kBodyTooLarge,         // 413: body over max_body_bytes, or decodes past
                         //      max_decoded_body_bytes
  kUnsupportedEncoding,  // 415: Content-Encoding we cannot decode
  kCorruptBody,          // 400: body that fails to decode (bad gzip, ...)
  kTimeout,              // 408: request not received within the timeouts
  kTooManyConnections,   // connection closed at once: over max_connections
};

// A label value for metrics: "malformed", "header_too_large",
// "body_too_large", "unsupported_encoding", "corrupt_body", "timeout",
// "too_many_connections".
std::string_view ProtocolErrorName(ProtocolError e);
// The HTTP status the server answers with (503 for too_many_connections,
// which is not sent: the connection is closed).
int ProtocolErrorHttpStatus(ProtocolError e);

struct ProtocolErrorDetail {
  ProtocolError reason = ProtocolError::kMalformed;
  std::string message;  // short, for the plain-text response body
};

}  // namespace pantau::net

#endif  // PANTAU_NET_PROTOCOL_ERROR_H_
