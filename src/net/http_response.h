// HttpResponse: what a handler returns. The server adds Content-Length,
// Date and Connection, and gzips the body when the client accepts it.
//
// Thread safety: a value type.
#ifndef PANTAU_NET_HTTP_RESPONSE_H_
#define PANTAU_NET_HTTP_RESPONSE_H_

#include <string>
#include <string_view>

#include "net/http_headers.h"

namespace pantau::net {

struct HttpResponse {
  int status = 200;
  // Content-Type is the handler's to set (the helpers below do). Setting
  // Content-Encoding marks the body as already encoded: the server then
  // leaves it alone.
  HttpHeaders headers;
  std::string body;
  // Lets a handler opt out of response compression (e.g. for bodies that
  // are already compressed, or streams a client reads incrementally).
  bool compressible = true;

  // 200-style helpers; `status` may be any code.
  static HttpResponse Text(int status, std::string body);  // text/plain
  static HttpResponse Json(int status, std::string body);  // application/json
  // A short plain-text error: `message` plus a newline, as Go's http.Error.
  static HttpResponse Error(int status, std::string_view message);
};

// The reason phrase for a status code ("Not Found"), or "" if unknown.
std::string_view HttpReasonPhrase(int status);

}  // namespace pantau::net

#endif  // PANTAU_NET_HTTP_RESPONSE_H_
