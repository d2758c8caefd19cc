#include "net/internal/connection.h"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <exception>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/strings.h"
#include "net/internal/request_prep.h"
#include "net/internal/server_impl.h"

namespace pantau::net::internal {

namespace asio = boost::asio;

namespace {

// Bytes of a pipelined next request buffered while a handler runs; past
// this the connection stops reading until the response is written.
constexpr size_t kMaxBufferedWhileBusy = 64 * 1024;
// A closing connection drains what the client still sends for this long
// (or this many bytes), so our response is not lost to a TCP reset.
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr size_t kLingerBytes = 1 << 20;

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

std::string FormatEndpoint(const asio::ip::tcp::endpoint& ep) {
  asio::ip::address addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
  }
  if (addr.is_v6()) return absl::StrCat("[", addr.to_string(), "]:", ep.port());
  return absl::StrCat(addr.to_string(), ":", ep.port());
}

}  // namespace

Connection::Connection(HttpServer::Impl* server, Socket socket)
    : server_(server),
      executor_(socket.get_executor()),
      socket_(std::move(socket)),
      timer_(executor_) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) remote_ = FormatEndpoint(ep);
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  server_->Register(this);
}

Connection::~Connection() { server_->Unregister(this); }

void Connection::Start() {
  NewRequest();
  ArmTimer(Clock::now() + ToChrono(server_->options.idle_timeout));
  ReadMore();
}

void Connection::BeginShutdown() {
  if (phase_ == Phase::kIdle && in_.empty()) {
    Close();
  } else {
    close_after_response_ = true;
  }
}

void Connection::ForceClose() { Close(); }

void Connection::NewRequest() {
  reader_ = std::make_unique<RequestReader>(server_->options.max_header_bytes);
  header_handled_ = false;
  match_ = Router::Match();
  max_decoded_body_ = server_->options.max_decoded_body_bytes;
}

void Connection::ReadMore() {
  if (read_in_flight_ || peer_closed_ || phase_ == Phase::kClosed) return;
  read_in_flight_ = true;
  socket_.async_read_some(
      asio::buffer(read_buf_),
      [self = shared_from_this()](const boost::system::error_code& ec,
                                  size_t n) { self->OnRead(ec, n); });
}

void Connection::OnRead(const boost::system::error_code& ec, size_t n) {
  read_in_flight_ = false;
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    peer_closed_ = true;
    switch (phase_) {
      case Phase::kHandling:
        // The client is gone (or half-closed): the handler may stop early.
        // The response is still attempted, then the connection closes.
        // A client that pipelined more requests before closing its side
        // still wants the answers (as Go's server, no cancel then).
        if (ctx_ && in_.empty()) ctx_->Cancel();
        break;
      case Phase::kWriting:
        break;  // the write finishes or fails on its own
      default:
        Close();
    }
    return;
  }
  switch (phase_) {
    case Phase::kIdle:
    case Phase::kReading:
      in_.append(read_buf_.data(), n);
      ProcessInput();
      break;
    case Phase::kHandling:
    case Phase::kWriting:
      in_.append(read_buf_.data(), n);
      if (in_.size() < kMaxBufferedWhileBusy) ReadMore();
      break;
    case Phase::kClosing:
      drained_ += n;
      if (drained_ < kLingerBytes) {
        ReadMore();
      } else {
        Close();
      }
      break;
    case Phase::kClosed:
      break;
  }
}

void Connection::ProcessInput() {
  if (in_.empty()) {
    if (peer_closed_) {
      Close();
      return;
    }
    ReadMore();
    return;
  }
  if (phase_ == Phase::kIdle) {
    if (server_->stopping.load()) close_after_response_ = true;
    phase_ = Phase::kReading;
    request_start_ = absl::Now();
    auto now = Clock::now();
    request_deadline_ = now + ToChrono(server_->options.read_timeout);
    ArmTimer(std::min(request_deadline_,
                      now + ToChrono(server_->options.read_header_timeout)));
  }
  size_t used = reader_->Feed(in_);
  in_.erase(0, used);
  if (!reader_->error() && reader_->header_done() && !header_handled_) {
    header_handled_ = true;
    if (!OnHeader()) return;
    ArmTimer(request_deadline_);
    used = reader_->Feed(in_);
    in_.erase(0, used);
  }
  if (reader_->error()) {
    SendProtocolError(*reader_->error());
    return;
  }
  if (reader_->done()) {
    Dispatch();
    return;
  }
  if (peer_closed_) {
    Close();  // the client closed its side mid-request
    return;
  }
  ReadMore();
}

bool Connection::OnHeader() {
  const HttpServer::Options& opts = server_->options;
  match_ = server_->router->Find(reader_->method(),
                                 RawPathOfTarget(reader_->target()));
  size_t body_limit = opts.max_body_bytes;
  if (match_.options != nullptr) {
    if (match_.options->max_body_bytes) {
      body_limit = *match_.options->max_body_bytes;
    }
    if (match_.options->max_decoded_body_bytes) {
      max_decoded_body_ = *match_.options->max_decoded_body_bytes;
    }
  }
  if (auto err = CheckRequestHeader(*reader_, body_limit)) {
    SendProtocolError(*err);
    return false;
  }
  if (reader_->expects_continue() && !reader_->done()) SendContinue();
  return true;
}

void Connection::Dispatch() {
  phase_ = Phase::kHandling;
  timer_.cancel();  // handlers have no server-side time limit
  const bool keep_alive = reader_->keep_alive();  // before TakeRequest
  HttpRequest request = reader_->TakeRequest();
  request.remote_address = remote_;
  if (!keep_alive) close_after_response_ = true;

  ResponseContext rctx;
  rctx.head = request.method == "HEAD";
  rctx.accept_gzip =
      HeaderListHasToken(request.headers.Get("Accept-Encoding"), "gzip");
  rctx.http10_keep_alive = request.version == 10 && keep_alive;
  rctx.gzip_min_bytes = server_->options.gzip_min_bytes;
  rctx.gzip_level = server_->options.gzip_level;

  ctx_ = std::make_shared<RequestContext>(request_start_);
  Executor executor =
      match_.options != nullptr ? match_.options->executor : Executor::kQuery;
  ReadMore();  // notice a client that goes away, buffer pipelined bytes

  HttpServer::Impl* server = server_;
  auto task = [self = shared_from_this(), server, request = std::move(request),
               match = match_, ctx = ctx_, rctx,
               max_decoded = max_decoded_body_]() mutable {
    HttpResponse response;
    bool close = false;
    if (auto err = PrepareRequest(request, max_decoded)) {
      server->ReportProtocolError(err->reason);
      response = HttpResponse::Error(ProtocolErrorHttpStatus(err->reason),
                                     err->message);
      close = true;
    } else {
      try {
        response = server->router->Serve(match, request, *ctx);
      } catch (const std::exception& e) {
        PANTAU_LOG(kError, "HTTP handler threw",
                   {{"route", match.pattern}, {"error", e.what()}});
        response = HttpResponse::Error(500, "internal error");
      } catch (...) {
        PANTAU_LOG(kError, "HTTP handler threw", {{"route", match.pattern}});
        response = HttpResponse::Error(500, "internal error");
      }
    }
    CompressResponse(response, rctx);
    // Hand the connection reference over to the strand so that none is
    // left on this thread once the server counts the handler as done.
    auto conn = std::move(self);
    asio::post(conn->executor(),
               [conn, response = std::move(response), rctx, close]() mutable {
                 conn->OnHandled(std::move(response), rctx, close);
               });
  };
  server_->Run(executor, std::move(task));
}

void Connection::OnHandled(HttpResponse response, ResponseContext rctx,
                           bool close) {
  ctx_.reset();
  if (phase_ == Phase::kClosed) return;
  rctx.close = close || close_after_response_ ||
               (peer_closed_ && in_.empty()) || server_->stopping.load();
  rctx.now = absl::Now();
  std::string head = SerializeResponseHead(response, rctx);
  Write(std::move(head), std::move(response.body), rctx.close);
}

void Connection::Write(std::string head, std::string body, bool close) {
  if (continue_in_flight_) {
    deferred_write_ = [this, head = std::move(head), body = std::move(body),
                       close]() mutable {
      Write(std::move(head), std::move(body), close);
    };
    return;
  }
  phase_ = Phase::kWriting;
  ArmTimer(Clock::now() + ToChrono(server_->options.write_timeout));
  out_head_ = std::move(head);
  out_body_ = std::move(body);
  std::array<asio::const_buffer, 2> bufs = {asio::buffer(out_head_),
                                            asio::buffer(out_body_)};
  asio::async_write(socket_, bufs,
                    [self = shared_from_this(), close](
                        const boost::system::error_code& ec, size_t) {
                      self->OnWritten(ec, close);
                    });
}

void Connection::OnWritten(const boost::system::error_code& ec, bool close) {
  out_head_.clear();
  out_body_.clear();
  if (phase_ == Phase::kClosed) return;
  if (ec) {
    Close();
    return;
  }
  if (close || (peer_closed_ && in_.empty())) {
    Linger();
    return;
  }
  phase_ = Phase::kIdle;
  NewRequest();
  ArmTimer(Clock::now() + ToChrono(server_->options.idle_timeout));
  ProcessInput();
}

void Connection::SendProtocolError(const ProtocolErrorDetail& error) {
  server_->ReportProtocolError(error.reason);
  int status = ProtocolErrorHttpStatus(error.reason);
  ctx_.reset();
  Write(SerializeErrorResponse(status, error.message, absl::Now()), "",
        /*close=*/true);
}

void Connection::SendContinue() {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  continue_in_flight_ = true;
  asio::async_write(
      socket_, asio::buffer(kContinue.data(), kContinue.size()),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
        self->continue_in_flight_ = false;
        if (ec) {
          self->Close();
          return;
        }
        if (self->deferred_write_) {
          auto w = std::move(self->deferred_write_);
          self->deferred_write_ = nullptr;
          w();
        }
      });
}

void Connection::Linger() {
  phase_ = Phase::kClosing;
  boost::system::error_code ec;
  socket_.shutdown(Socket::shutdown_send, ec);
  if (ec || peer_closed_) {
    Close();
    return;
  }
  in_.clear();
  drained_ = 0;
  ArmTimer(Clock::now() + kLingerTime);
  ReadMore();
}

void Connection::Close() {
  if (phase_ == Phase::kClosed) return;
  phase_ = Phase::kClosed;
  if (ctx_) ctx_->Cancel();
  deferred_write_ = nullptr;
  timer_.cancel();
  boost::system::error_code ec;
  socket_.close(ec);
}

void Connection::ArmTimer(Clock::time_point deadline) {
  timer_.expires_at(deadline);
  timer_.async_wait(
      [self = shared_from_this()](const boost::system::error_code& ec) {
        self->OnTimer(ec);
      });
}

void Connection::OnTimer(const boost::system::error_code& ec) {
  if (ec == asio::error::operation_aborted || phase_ == Phase::kClosed) return;
  // A re-armed timer's old wait may complete before it sees the cancel.
  if (timer_.expiry() > Clock::now()) return;
  switch (phase_) {
    case Phase::kReading:
      SendProtocolError({ProtocolError::kTimeout, "request timeout"});
      break;
    case Phase::kHandling:
      break;
    default:  // idle keep-alive, a stuck write, or the drain after closing
      Close();
  }
}

}  // namespace pantau::net::internal
