// One server-side HTTP/1.1 connection: a state machine on its own strand.
//
//   idle --first byte--> reading --request complete--> handling (pool)
//     ^                     |                              |
//     |                 protocol error / timeout           v
//     +----keep-alive---- writing <---------------- response ready
//                           |
//                           +--close--> closing (drain, then close)
//
// While a handler runs the connection keeps reading, so a client that goes
// away is noticed and the request's context cancelled; bytes of a
// pipelined next request are buffered (bounded) and parsed after the
// response is written.
//
// Internal to pantau::net. All methods except the constructor run on the
// connection's strand.
#ifndef PANTAU_NET_INTERNAL_CONNECTION_H_
#define PANTAU_NET_INTERNAL_CONNECTION_H_

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "net/http_server.h"
#include "net/internal/http_parser.h"
#include "net/internal/message_writer.h"
#include "net/router.h"

namespace pantau::net::internal {

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Socket = boost::asio::ip::tcp::socket;

  // `socket` must use a strand executor. Registers with `server`.
  Connection(HttpServer::Impl* server, Socket socket);
  ~Connection();

  const boost::asio::any_io_executor& executor() const { return executor_; }

  void Start();
  // Shutdown began: close now if idle, else after the current response.
  void BeginShutdown();
  // Shutdown's grace period is over.
  void ForceClose();

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kClosing, kClosed };
  using Clock = std::chrono::steady_clock;

  void NewRequest();
  void ReadMore();
  void OnRead(const boost::system::error_code& ec, size_t n);
  void ProcessInput();
  bool OnHeader();
  void Dispatch();
  void OnHandled(HttpResponse response, ResponseContext rctx, bool close);
  void Write(std::string head, std::string body, bool close);
  void OnWritten(const boost::system::error_code& ec, bool close);
  void SendProtocolError(const ProtocolErrorDetail& error);
  void SendContinue();
  void Linger();
  void Close();
  void ArmTimer(Clock::time_point deadline);
  void OnTimer(const boost::system::error_code& ec);

  HttpServer::Impl* const server_;
  const boost::asio::any_io_executor executor_;
  Socket socket_;
  boost::asio::steady_timer timer_;
  std::string remote_;

  Phase phase_ = Phase::kIdle;
  std::array<char, 16 * 1024> read_buf_;
  std::string in_;  // received, not yet parsed
  bool read_in_flight_ = false;
  bool peer_closed_ = false;
  bool close_after_response_ = false;
  size_t drained_ = 0;

  // The request being read or handled.
  std::unique_ptr<RequestReader> reader_;
  bool header_handled_ = false;
  Router::Match match_;
  size_t max_decoded_body_ = 0;
  absl::Time request_start_;
  Clock::time_point request_deadline_;
  std::shared_ptr<RequestContext> ctx_;

  // Writes: a 100 Continue may still be in flight when the response is
  // ready; the response then waits for it.
  bool continue_in_flight_ = false;
  std::function<void()> deferred_write_;
  std::string out_head_;
  std::string out_body_;
};

}  // namespace pantau::net::internal

#endif  // PANTAU_NET_INTERNAL_CONNECTION_H_
