// Router: maps (method, path) to a handler and runs the middleware chain.
//
// Patterns are paths whose segments are literals, `:name` (one non-empty
// segment) or, as the last segment, `*name` (the rest of the path, possibly
// empty: "/ui/*path" matches "/ui/" and "/ui/js/app.js"). When several
// patterns match, the one with a literal at the first segment where they
// differ wins over `:param`, which wins over `*catch-all`. Path parameters
// are percent-decoded after splitting, so "%2F" stays inside one segment.
//
// Unknown path → 404; known path with another method → 405 with an Allow
// header. A GET route also answers HEAD (the server sends no body).
// Each route names the pool that runs it and may override the server's
// body limits.
//
// Thread safety: register routes and middleware before the server starts;
// after that the router is read-only and Find/Serve may run concurrently.
#ifndef PANTAU_NET_ROUTER_H_
#define PANTAU_NET_ROUTER_H_

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "net/handler.h"

namespace pantau::net {

// Where a route's handler runs.
enum class Executor {
  kQuery,   // the query pool (default): reads, API queries, UI
  kIngest,  // the ingest pool: writes (remote_write, OTLP, push)
  kInline,  // the IO thread itself: only for handlers that neither block
            // nor compute (health checks); a slow one stalls other clients
};

struct RouteOptions {
  Executor executor = Executor::kQuery;
  // Overrides HttpServer::Options::max_body_bytes (bytes on the wire).
  std::optional<size_t> max_body_bytes;
  // Overrides HttpServer::Options::max_decoded_body_bytes.
  std::optional<size_t> max_decoded_body_bytes;
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // Registers `handler` for `method` (e.g. "GET") on `pattern`. Fails with
  // INVALID_ARGUMENT for a malformed pattern (no leading '/', empty :name,
  // '*' not last, the same position named differently than an earlier
  // registration) and ALREADY_EXISTS for a duplicate method+pattern.
  absl::Status Handle(std::string_view method, std::string_view pattern,
                      Handler handler, RouteOptions options = {});
  // Registers the same handler for several methods (e.g. GET and POST, as
  // the Prometheus query endpoints accept both).
  absl::Status Handle(std::initializer_list<std::string_view> methods,
                      std::string_view pattern, Handler handler,
                      RouteOptions options = {});

  // Adds a middleware around every request the router answers. The first
  // added is the outermost: Use(a); Use(b) runs a → b → handler → b → a.
  void Use(Middleware middleware);

  // The outcome of matching a method and raw (still percent-encoded) path.
  struct Match {
    // 200 when a route matched, else 404 or 405; 400 when a path segment
    // has a malformed percent-escape.
    int status = 404;
    const Handler* handler = nullptr;       // the route's handler when matched
    std::string pattern;                    // the matched pattern, "" when none
    Params path_params;                     // decoded
    std::string allow;                      // for 405: "GET, HEAD, POST"
    const RouteOptions* options = nullptr;  // null when none matched
  };
  Match Find(std::string_view method, std::string_view raw_path) const;

  // Runs the middleware chain around the matched handler (or around the
  // router's own 404/405 answer). Fills request.route and
  // request.path_params from `match` first.
  HttpResponse Serve(const Match& match, HttpRequest& request,
                     RequestContext& ctx) const;
  // Find + Serve on request.method and the path of request.target (or
  // request.path when target is empty); for tests and in-process callers.
  HttpResponse Serve(HttpRequest& request, RequestContext& ctx) const;

 private:
  struct Route;
  std::vector<std::unique_ptr<Route>> routes_;
  std::vector<Middleware> middleware_;
};

}  // namespace pantau::net

#endif  // PANTAU_NET_ROUTER_H_
