// Test helpers for net_test: raw sockets to 127.0.0.1 so tests can send
// exactly the bytes they mean (malformed, slow, pipelined), and a started
// server on an ephemeral port.
#ifndef PANTAU_NET_TEST_UTIL_H_
#define PANTAU_NET_TEST_UTIL_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "net/http_server.h"
#include "net/internal/http_parser.h"

namespace pantau::net::testing {

// A blocking TCP connection to 127.0.0.1:port.
class RawClient {
 public:
  static absl::StatusOr<std::unique_ptr<RawClient>> Connect(int port);
  ~RawClient();

  bool Send(std::string_view bytes);
  // Reads one response (waiting up to `timeout`); `head` for HEAD requests.
  absl::StatusOr<internal::ParsedResponse> ReadResponse(
      absl::Duration timeout = absl::Seconds(10), bool head = false);
  // True when the server closed the connection (EOF or reset) within
  // `timeout` without sending any more bytes.
  bool WaitClosed(absl::Duration timeout = absl::Seconds(10));
  // Closes our sending side (the server sees EOF).
  void ShutdownWrite();
  void Close();

 private:
  explicit RawClient(int fd) : fd_(fd) {}
  int fd_;
  std::string buffered_;
};

// Sends `request` on a new connection and reads one response.
absl::StatusOr<internal::ParsedResponse> RoundTrip(int port,
                                                   std::string_view request,
                                                   bool head = false);

// Raw request bytes: "GET <target> HTTP/1.1" with Host and `extra` header
// lines (each ending in \r\n), and the same for POST with a body.
std::string Get(std::string_view target, std::string_view extra = "");
std::string Post(std::string_view target, std::string_view body,
                 std::string_view extra = "");

// A handler that echoes what it saw, one "key=value" per line: method,
// path, route, each param ("param:k=v"), each path param ("path:k=v"),
// then "body=<body>".
HttpResponse Echo(const HttpRequest& r, RequestContext& ctx);

// Counts HttpServer::Options::on_protocol_error calls by reason name.
class ProtocolErrorCounter {
 public:
  std::function<void(ProtocolError)> Hook() {
    return [this](ProtocolError e) {
      absl::MutexLock l(&mu_);
      counts_[std::string(ProtocolErrorName(e))]++;
    };
  }
  int Count(const std::string& name) {
    absl::MutexLock l(&mu_);
    return counts_[name];
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, int> counts_;
};

// A router and a started server on 127.0.0.1:0 with small thread pools.
struct TestServer {
  std::shared_ptr<Router> router = std::make_shared<Router>();
  std::unique_ptr<HttpServer> server;
  // Starts with `options` (listen address forced to 127.0.0.1:0).
  void Start(HttpServer::Options options = {});
  int port() const { return server->port(); }
};

}  // namespace pantau::net::testing

#endif  // PANTAU_NET_TEST_UTIL_H_
