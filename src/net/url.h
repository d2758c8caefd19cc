// URL pieces the server and client need: percent-decoding, query strings
// and form bodies (application/x-www-form-urlencoded), "host:port" listen
// addresses, and http:// URLs for the client.
//
// Thread safety: pure functions.
#ifndef PANTAU_NET_URL_H_
#define PANTAU_NET_URL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace pantau::net {

// Decodes %XX escapes; with `plus_as_space` (query strings and forms) also
// '+' as ' '. Fails with INVALID_ARGUMENT on a malformed escape.
absl::StatusOr<std::string> PercentDecode(std::string_view s,
                                          bool plus_as_space);

// Escapes everything but RFC 3986 unreserved characters; with
// `space_as_plus` a space becomes '+' (form encoding).
std::string PercentEncode(std::string_view s, bool space_as_plus = false);

// Parses "a=1&b=2&a=3" into decoded (name, value) pairs in order. Empty
// pieces ("a=1&&b=2") are skipped; a name without '=' gets an empty value.
// Fails with INVALID_ARGUMENT on a malformed escape.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
ParseQueryString(std::string_view query);

// The inverse of ParseQueryString.
std::string EncodeQueryString(
    const std::vector<std::pair<std::string, std::string>>& params);

// A listen or connect address split into host and port. The host is empty
// for ":9090" (all interfaces) and has no brackets for "[::1]:9090".
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// Accepts "host:port", ":port", "[v6]:port". The port must be 0-65535.
absl::StatusOr<HostPort> ParseHostPort(std::string_view address);

// An http:// URL split for the client.
struct Url {
  std::string scheme;  // "http"
  std::string host;    // without brackets
  uint16_t port = 80;
  std::string target;  // path and query as sent on the request line, "/" at
                       // least; the fragment is dropped
  // "host:port" (IPv6 hosts in brackets; ":80" left out, as browsers and
  // Go do), for the Host header and for keying pooled connections.
  std::string HostHeader() const;
};
// Fails with INVALID_ARGUMENT for malformed URLs and UNIMPLEMENTED for
// https:// (TLS is not supported yet).
absl::StatusOr<Url> ParseUrl(std::string_view url);

}  // namespace pantau::net

#endif  // PANTAU_NET_URL_H_
