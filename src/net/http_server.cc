#include "net/http_server.h"

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "base/log.h"
#include "base/strings.h"
#include "net/internal/connection.h"
#include "net/internal/server_impl.h"
#include "net/url.h"

namespace pantau::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

int DefaultThreads(int requested) {
  if (requested > 0) return requested;
  return std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
}

}  // namespace

HttpServer::Impl::Impl(Options opts, std::shared_ptr<const Router> r)
    : options(std::move(opts)),
      router(std::move(r)),
      io_(std::max(1, options.io_threads)),
      accept_strand_(asio::make_strand(io_)),
      acceptor_(accept_strand_),
      accept_retry_(accept_strand_) {}

HttpServer::Impl::~Impl() { Shutdown(absl::ZeroDuration()); }

void HttpServer::Impl::Register(internal::Connection* c) {
  absl::MutexLock lock(&mu_);
  conns_.insert(c);
}

void HttpServer::Impl::Unregister(internal::Connection* c) {
  absl::MutexLock lock(&mu_);
  conns_.erase(c);
}

int HttpServer::Impl::ConnectionCount() const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(conns_.size());
}

void HttpServer::Impl::Run(Executor executor, std::function<void()> task) {
  if (executor == Executor::kInline) {
    task();
    return;
  }
  base::ThreadPool* pool =
      executor == Executor::kIngest ? ingest_pool_ : query_pool_;
  {
    absl::MutexLock lock(&mu_);
    ++handlers_running_;
  }
  pool->Schedule([this, task = std::move(task)]() mutable {
    task();
    task = nullptr;  // drop its connection reference before counting down
    absl::MutexLock lock(&mu_);
    --handlers_running_;
  });
}

absl::Status HttpServer::Impl::Start() {
  if (started_) return absl::FailedPreconditionError("server already started");
  auto hp = ParseHostPort(options.listen_address);
  if (!hp.ok()) return hp.status();

  std::vector<tcp::endpoint> candidates;
  boost::system::error_code ec;
  if (hp->host.empty()) {
    // All interfaces: dual-stack IPv6 when the host has it, else IPv4.
    candidates.emplace_back(asio::ip::address_v6::any(), hp->port);
    candidates.emplace_back(asio::ip::address_v4::any(), hp->port);
  } else {
    auto addr = asio::ip::make_address(hp->host, ec);
    if (!ec) {
      candidates.emplace_back(addr, hp->port);
    } else {
      tcp::resolver resolver(io_);
      auto results = resolver.resolve(hp->host, std::to_string(hp->port), ec);
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("listen address \"", options.listen_address,
                         "\": cannot resolve host: ", ec.message()));
      }
      for (const auto& r : results) candidates.push_back(r.endpoint());
    }
  }
  std::string last_error = "no address to listen on";
  bool listening = false;
  for (const tcp::endpoint& ep : candidates) {
    acceptor_.close(ec);
    acceptor_.open(ep.protocol(), ec);
    if (ec) {
      last_error = ec.message();
      continue;
    }
    if (ep.address().is_v6()) {
      acceptor_.set_option(asio::ip::v6_only(false), ec);
    }
    acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
    acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      last_error = ec.message();
      // "Address in use" is final; other failures (no IPv6) try the next.
      if (ec == asio::error::address_in_use) break;
      continue;
    }
    listening = true;
    break;
  }
  if (!listening) {
    acceptor_.close(ec);
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", options.listen_address, ": ", last_error));
  }
  port = acceptor_.local_endpoint(ec).port();

  query_pool_ = options.query_pool;
  ingest_pool_ = options.ingest_pool;
  if (query_pool_ == nullptr) {
    own_query_ = std::make_unique<base::ThreadPool>(
        DefaultThreads(options.query_threads), "http-query");
    query_pool_ = own_query_.get();
  }
  if (ingest_pool_ == nullptr) {
    own_ingest_ = std::make_unique<base::ThreadPool>(
        DefaultThreads(options.ingest_threads), "http-ingest");
    ingest_pool_ = own_ingest_.get();
  }

  started_ = true;
  work_.emplace(io_.get_executor());
  asio::dispatch(accept_strand_, [this] { DoAccept(); });
  for (int i = 0; i < std::max(1, options.io_threads); ++i) {
    threads_.emplace_back([this] { io_.run(); });
  }
  return absl::OkStatus();
}

void HttpServer::Impl::DoAccept() {
  acceptor_.async_accept(
      asio::make_strand(io_),
      [this](const boost::system::error_code& ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
          return;
        }
        if (ec) {
          // Out of file descriptors and the like: back off, keep serving.
          PANTAU_LOG(
              kWarn, "HTTP accept failed",
              {{"address", options.listen_address}, {"error", ec.message()}});
          accept_retry_.expires_after(std::chrono::milliseconds(100));
          accept_retry_.async_wait([this](const boost::system::error_code& e) {
            if (!e && acceptor_.is_open()) DoAccept();
          });
          return;
        }
        if (options.max_connections > 0 &&
            ConnectionCount() >= options.max_connections) {
          ReportProtocolError(ProtocolError::kTooManyConnections);
          boost::system::error_code ignored;
          socket.close(ignored);
        } else {
          auto conn =
              std::make_shared<internal::Connection>(this, std::move(socket));
          asio::dispatch(conn->executor(), [conn] { conn->Start(); });
        }
        DoAccept();
      });
}

void HttpServer::Impl::Shutdown(absl::Duration grace) {
  if (!started_ || shut_down_) return;
  shut_down_ = true;
  stopping = true;
  {
    absl::Notification closed;
    asio::post(accept_strand_, [this, &closed] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      accept_retry_.cancel();
      closed.Notify();
    });
    closed.WaitForNotification();
  }
  auto for_each_conn = [this](auto fn) {
    std::vector<std::shared_ptr<internal::Connection>> live;
    {
      absl::MutexLock lock(&mu_);
      for (internal::Connection* c : conns_) {
        // A connection whose destructor waits for mu_ has no owner left.
        std::shared_ptr<internal::Connection> sp = c->weak_from_this().lock();
        if (sp) live.push_back(std::move(sp));
      }
    }
    // Outside the lock: dropping the last reference runs the destructor,
    // which takes mu_.
    for (auto& sp : live) asio::post(sp->executor(), [sp, fn] { fn(*sp); });
  };
  for_each_conn([](internal::Connection& c) { c.BeginShutdown(); });

  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return conns_.empty() && handlers_running_ == 0;
  };
  bool done;
  {
    absl::MutexLock lock(&mu_);
    done = mu_.AwaitWithTimeout(absl::Condition(&idle), grace);
  }
  if (!done) {
    for_each_conn([](internal::Connection& c) { c.ForceClose(); });
    absl::MutexLock lock(&mu_);
    // Handlers see Cancelled() and should return soon; one that ignores it
    // holds up shutdown, which is logged rather than left silent.
    while (!mu_.AwaitWithTimeout(absl::Condition(&idle), absl::Seconds(5))) {
      PANTAU_LOG(kWarn, "HTTP shutdown waiting for handlers",
                 {{"connections", static_cast<int64_t>(conns_.size())},
                  {"handlers", handlers_running_}});
    }
  }
  work_.reset();
  io_.stop();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (own_query_) own_query_->Shutdown();
  if (own_ingest_) own_ingest_->Shutdown();
}

HttpServer::HttpServer(Options options, std::shared_ptr<const Router> router)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(router))) {}

HttpServer::~HttpServer() = default;

absl::Status HttpServer::Start() { return impl_->Start(); }
void HttpServer::Shutdown(absl::Duration grace) { impl_->Shutdown(grace); }
int HttpServer::port() const { return impl_->port.load(); }
int HttpServer::connection_count() const { return impl_->ConnectionCount(); }
const HttpServer::Options& HttpServer::options() const {
  return impl_->options;
}

}  // namespace pantau::net
