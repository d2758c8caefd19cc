// Escaping for JSON string contents (RFC 8259): quotes, backslashes and
// control characters; everything else, UTF-8 included, passes through.
// The one escaper shared by pantau's logs, error envelopes and the SDK.
// (The Prometheus API's writer escapes as Go does, a different contract.)
//
// Thread safety: pure function.
#ifndef PANTAU_BASE_JSON_ESCAPE_H_
#define PANTAU_BASE_JSON_ESCAPE_H_

#include <string>
#include <string_view>

namespace pantau::base {

// Appends `s` escaped, without the surrounding quotes.
void AppendJsonEscaped(std::string* out, std::string_view s);

}  // namespace pantau::base

#endif  // PANTAU_BASE_JSON_ESCAPE_H_
