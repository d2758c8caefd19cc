#include "net/protocol_error.h"

namespace pantau::net {

std::string_view ProtocolErrorName(ProtocolError e) {
  switch (e) {
    case ProtocolError::kMalformed:
      return "malformed";
    case ProtocolError::kHeaderTooLarge:
      return "header_too_large";
    case ProtocolError::kBodyTooLarge:
      return "body_too_large";
    case ProtocolError::kUnsupportedEncoding:
      return "unsupported_encoding";
    case ProtocolError::kCorruptBody:
      return "corrupt_body";
    case ProtocolError::kTimeout:
      return "timeout";
    case ProtocolError::kTooManyConnections:
      return "too_many_connections";
  }
  return "unknown";
}

int ProtocolErrorHttpStatus(ProtocolError e) {
  switch (e) {
    case ProtocolError::kMalformed:
      return 400;
    case ProtocolError::kHeaderTooLarge:
      return 431;
    case ProtocolError::kBodyTooLarge:
      return 413;
    case ProtocolError::kUnsupportedEncoding:
      return 415;
    case ProtocolError::kCorruptBody:
      return 400;
    case ProtocolError::kTimeout:
      return 408;
    case ProtocolError::kTooManyConnections:
      return 503;
  }
  return 400;
}

}  // namespace pantau::net
