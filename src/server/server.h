// The pantau server: owns the data directory, the HTTP listener with every
// route, and pantau's self-monitoring; wires the signal modules in as they
// join. RunServe (serve.h) drives it from main(); tests drive it directly.
//
// Thread safety: Start, Reload and Shutdown may be called from any thread
// but not concurrently with each other (RunServe calls them from one
// thread; /-/reload forwards to that thread's logic under a mutex).
#ifndef PANTAU_SERVER_SERVER_H_
#define PANTAU_SERVER_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "server/options.h"
#include "server/resolve.h"

namespace pantau::metrics::api {
struct ApiDeps;
}
namespace pantau::sdk {
class Registry;
}
namespace pantau::net {
class GrpcServer;
class HttpServer;
class Router;
}  // namespace pantau::net

namespace pantau::server {

class MetricsSignal;
class SelfMetrics;

class Server {
 public:
  // `flags` are re-applied over the config file on every reload.
  Server(Options options, std::vector<FlagOverride> flags);
  ~Server();

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Creates and locks the data directory, then starts listening. Fails
  // with a clear message if the address is in use or the directory is
  // locked by another pantau.
  absl::Status Start();

  // Re-reads the config file and flags; applies what can change while
  // running. On error nothing changes.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(reload_mu_);

  // Stops accepting, lets in-flight requests finish within
  // web.shutdown_timeout, then releases the data directory. Idempotent.
  void Shutdown();

  // Called when a client asks the server to stop (POST /-/quit).
  void set_on_quit(std::function<void()> fn) { on_quit_ = std::move(fn); }

  // The bound ports (useful with ":0"); 0 when that listener is off.
  int http_port() const;
  int otlp_http_port() const;
  int otlp_grpc_port() const;
  Options options() const ABSL_LOCKS_EXCLUDED(reload_mu_);
  sdk::Registry& registry() { return *registry_; }

 private:
  absl::Status LockDataDir();
  metrics::api::ApiDeps ApiCallbacks();
  void RegisterRoutes();
  static absl::Status ApplyLogging(const Options& options);

  mutable absl::Mutex reload_mu_;
  Options options_ ABSL_GUARDED_BY(reload_mu_);
  const std::vector<FlagOverride> flags_;
  std::unique_ptr<sdk::Registry> registry_;
  std::unique_ptr<SelfMetrics> self_metrics_;
  std::shared_ptr<net::Router> router_;
  std::unique_ptr<net::HttpServer> http_;
  std::unique_ptr<net::HttpServer> otlp_http_;  // optional extra listener
  std::unique_ptr<net::GrpcServer> grpc_;       // OTLP/gRPC
  std::unique_ptr<MetricsSignal> metrics_;
  std::function<void()> on_quit_;
  std::atomic<bool> ready_{false};
  int lock_fd_ = -1;
  const absl::Time start_time_ = absl::Now();
  std::atomic<bool> last_reload_ok_{true};
  std::atomic<int64_t> last_reload_unix_{absl::ToUnixSeconds(absl::Now())};
  bool stopped_ = false;
};

}  // namespace pantau::server

#endif  // PANTAU_SERVER_SERVER_H_
