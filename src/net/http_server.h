// HttpServer: the HTTP/1.1 server every pantau API is served by.
//
// Threading model: `io_threads` threads run Asio and do only socket work
// and parsing; handlers run on the ingest or query pool (per route, see
// RouteOptions) and never on an IO thread, except routes marked kInline.
// Requests on one connection are handled one after another (pipelined
// requests wait their turn and are answered in order); different
// connections proceed in parallel.
//
// Protocol errors are answered before routing with a short plain-text
// reason and the connection is closed: malformed request → 400, header too
// large → 431, body too large (on the wire or once decoded) → 413,
// unsupported Content-Encoding → 415, corrupt compressed body → 400, a
// request not received within the read timeouts → 408. Every other
// connection keeps being served.
//
// Thread safety: Start and Shutdown are called from one controlling
// thread; port() and the accessors are safe from any thread once Start
// returned.
#ifndef PANTAU_NET_HTTP_SERVER_H_
#define PANTAU_NET_HTTP_SERVER_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "net/protocol_error.h"
#include "net/router.h"

namespace pantau::base {
class ThreadPool;
}

namespace pantau::net {

class HttpServer {
 public:
  struct Options {
    // "host:port"; ":9090" listens on all interfaces (IPv6 and IPv4 when the
    // host has IPv6), "127.0.0.1:0" on an ephemeral port (see port()).
    std::string listen_address = ":9090";
    // Threads running socket IO and parsing.
    int io_threads = 1;
    // Handler pools. When a pool pointer is set the server uses it (shared
    // with other listeners, not owned, must outlive the server); otherwise
    // it creates its own pool with the given number of threads (0 = the
    // number of CPUs, at least 2).
    base::ThreadPool* query_pool = nullptr;
    base::ThreadPool* ingest_pool = nullptr;
    int query_threads = 0;
    int ingest_threads = 0;
    // Request line plus header fields, in bytes (Go's default).
    size_t max_header_bytes = 1 << 20;
    // Body bytes as sent on the wire (possibly compressed); routes may
    // override. Larger bodies get 413.
    size_t max_body_bytes = 32 << 20;
    // Body bytes once Content-Encoding is undone; routes may override.
    size_t max_decoded_body_bytes = 128 << 20;
    // From a request's first byte until its header is complete
    // (slowloris protection).
    absl::Duration read_header_timeout = absl::Seconds(10);
    // From a request's first byte until its body is complete (Prometheus's
    // --web.read-timeout default).
    absl::Duration read_timeout = absl::Minutes(5);
    // How long a keep-alive connection may sit with no request.
    absl::Duration idle_timeout = absl::Minutes(2);
    // How long writing one response may take.
    absl::Duration write_timeout = absl::Minutes(2);
    // Open connections beyond this are closed right after accept
    // (Prometheus's --web.max-connections default); 0 = no limit.
    int max_connections = 512;
    // Responses of at least this many bytes are gzipped for clients that
    // accept gzip; 0 disables response compression.
    size_t gzip_min_bytes = 1024;
    // zlib level for response compression: 1 trades a little size for
    // much less CPU on large query results.
    int gzip_level = 1;
    // Called for every protocol error, from an IO or pool thread; must be
    // thread-safe and quick (e.g. increment a counter).
    std::function<void(ProtocolError)> on_protocol_error;
  };

  // `router` must be fully configured; it is shared read-only.
  HttpServer(Options options, std::shared_ptr<const Router> router);
  // Shuts down with no grace period if still running.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts serving. Fails with INVALID_ARGUMENT for a
  // bad listen address and UNAVAILABLE when it cannot listen (e.g.
  // "address already in use"). Call at most once.
  absl::Status Start();

  // Stops accepting (new connections are refused) and closes idle
  // connections; requests in flight may finish within `grace` and get
  // their responses (with Connection: close). After `grace`, remaining
  // requests are cancelled (RequestContext::Cancelled() turns true) and
  // their connections closed; Shutdown then waits for those handlers to
  // return. Idempotent. Must not be called from a handler (it would wait
  // for itself): a /-/quit endpoint signals the main thread instead.
  void Shutdown(absl::Duration grace);

  // The bound port, valid after a successful Start.
  int port() const;
  // Open connections right now.
  int connection_count() const;
  const Options& options() const;

  class Impl;  // internal/server_impl.h

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace pantau::net

#endif  // PANTAU_NET_HTTP_SERVER_H_
