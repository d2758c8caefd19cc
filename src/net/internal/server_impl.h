// The HTTP server's internals shared by http_server.cc (listener,
// lifecycle) and connection.cc (one connection's state machine). Includes
// Asio; only those two files include this header.
//
// Internal to pantau::net.
#ifndef PANTAU_NET_INTERNAL_SERVER_IMPL_H_
#define PANTAU_NET_INTERNAL_SERVER_IMPL_H_

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "base/thread_pool.h"
#include "net/http_server.h"

namespace pantau::net {

namespace internal {
class Connection;
}

class HttpServer::Impl {
 public:
  Impl(Options options, std::shared_ptr<const Router> router);
  ~Impl();

  absl::Status Start();
  void Shutdown(absl::Duration grace);

  // Called by connections.
  void Register(internal::Connection* c);
  void Unregister(internal::Connection* c);
  // Runs `task` per `executor`: inline (on the caller's thread) or on a
  // pool, counting it so Shutdown can wait for it.
  void Run(Executor executor, std::function<void()> task);
  void ReportProtocolError(ProtocolError e) const {
    if (options.on_protocol_error) options.on_protocol_error(e);
  }
  int ConnectionCount() const;

  const Options options;
  const std::shared_ptr<const Router> router;
  std::atomic<bool> stopping{false};
  std::atomic<int> port{0};

 private:
  void DoAccept();

  // Declared before io_ so they outlive it: destroying io_ destroys
  // pending handlers, which may hold the last reference to a connection,
  // whose destructor unregisters here.
  mutable absl::Mutex mu_;
  absl::flat_hash_set<internal::Connection*> conns_ ABSL_GUARDED_BY(mu_);
  int handlers_running_ ABSL_GUARDED_BY(mu_) = 0;

  std::unique_ptr<base::ThreadPool> own_query_;
  std::unique_ptr<base::ThreadPool> own_ingest_;
  base::ThreadPool* query_pool_ = nullptr;
  base::ThreadPool* ingest_pool_ = nullptr;

  boost::asio::io_context io_;
  std::optional<
      boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>
      work_;
  boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_retry_;
  std::vector<std::thread> threads_;
  bool started_ = false;
  bool shut_down_ = false;
};

}  // namespace pantau::net

#endif  // PANTAU_NET_INTERNAL_SERVER_IMPL_H_
