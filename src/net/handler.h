// The handler and middleware signatures every API plugs in with.
//
//   Handler:    HttpResponse(const HttpRequest&, RequestContext&)
//   Middleware: HttpResponse(const HttpRequest&, RequestContext&,
//                            const Handler& next)
//
// A middleware wraps every request the router answers (including its own
// 404/405, where HttpRequest::route is empty); it calls `next` zero or one
// time and may change the response on the way out (timing, counting,
// tracing, auth).
//
// Thread safety: handlers and middleware run concurrently on the server's
// pools and must be safe for that.
#ifndef PANTAU_NET_HANDLER_H_
#define PANTAU_NET_HANDLER_H_

#include <functional>

#include "net/http_request.h"
#include "net/http_response.h"
#include "net/request_context.h"

namespace pantau::net {

using Handler =
    std::function<HttpResponse(const HttpRequest&, RequestContext&)>;
using Middleware = std::function<HttpResponse(
    const HttpRequest&, RequestContext&, const Handler& next)>;

}  // namespace pantau::net

#endif  // PANTAU_NET_HANDLER_H_
