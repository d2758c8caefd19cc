// Turns a request as received into what handlers see: path and query
// parsed, body decoded per Content-Encoding (within the decoded-size
// limit), form parameters merged. No Beast here.
//
// Internal to pantau::net.
//
// Thread safety: pure functions.
#ifndef PANTAU_NET_INTERNAL_REQUEST_PREP_H_
#define PANTAU_NET_INTERNAL_REQUEST_PREP_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "net/http_request.h"
#include "net/internal/http_parser.h"
#include "net/protocol_error.h"

namespace pantau::net::internal {

// The path part of a request-target: "/a/b?x" → "/a/b"; an absolute-form
// target "http://host/a?x" → "/a". Still percent-encoded.
std::string_view RawPathOfTarget(std::string_view target);

// Checks a Content-Encoding header value before the body is read: empty or
// "identity" or a codec base/compression.h knows. Otherwise
// kUnsupportedEncoding.
std::optional<ProtocolErrorDetail> CheckContentEncoding(std::string_view value);

// The server's step once a request header is complete (the route is known):
// rejects an unsupported Content-Encoding (415) and applies the route's
// body limit (413 when Content-Length already exceeds it). Returns the
// error to answer with, if any.
std::optional<ProtocolErrorDetail> CheckRequestHeader(RequestReader& reader,
                                                      size_t max_body_bytes);

// Fills path, raw_query and params, decodes the body and removes the
// Content-Encoding header. Errors: malformed target/query/form (400),
// unsupported encoding (415), corrupt body (400), decoded body over
// `max_decoded_body_bytes` (413).
std::optional<ProtocolErrorDetail> PrepareRequest(
    HttpRequest& request, size_t max_decoded_body_bytes);

}  // namespace pantau::net::internal

#endif  // PANTAU_NET_INTERNAL_REQUEST_PREP_H_
