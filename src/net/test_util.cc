#include "net/test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/strings.h"
#include "gtest/gtest.h"

namespace pantau::net::testing {

absl::StatusOr<std::unique_ptr<RawClient>> RawClient::Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return absl::UnavailableError("connect failed");
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return std::unique_ptr<RawClient>(new RawClient(fd));
}

RawClient::~RawClient() { Close(); }

void RawClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void RawClient::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

absl::StatusOr<internal::ParsedResponse> RawClient::ReadResponse(
    absl::Duration timeout, bool head) {
  internal::ResponseReader reader(1 << 20, 64 << 20, head);
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (!buffered_.empty()) {
      size_t used = reader.Feed(buffered_);
      buffered_.erase(0, used);
      if (!reader.status().ok()) return reader.status();
      if (reader.done()) return reader.TakeResponse();
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("no response in time");
    }
    pollfd p{fd_, POLLIN, 0};
    int r =
        ::poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (r == 0) continue;
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      reader.FeedEof();
      if (reader.done()) return reader.TakeResponse();
      return absl::UnavailableError("connection closed before a response");
    }
    buffered_.append(buf, static_cast<size_t>(n));
  }
}

bool RawClient::WaitClosed(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(
        &p, 1,
        static_cast<int>(absl::ToInt64Milliseconds(deadline - absl::Now())) +
            1);
    if (r <= 0) continue;
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return true;
    buffered_.append(buf, static_cast<size_t>(n));
  }
  return false;
}

absl::StatusOr<internal::ParsedResponse> RoundTrip(int port,
                                                   std::string_view request,
                                                   bool head) {
  auto c = RawClient::Connect(port);
  if (!c.ok()) return c.status();
  if (!(*c)->Send(request)) return absl::UnavailableError("send failed");
  return (*c)->ReadResponse(absl::Seconds(10), head);
}

std::string Get(std::string_view target, std::string_view extra) {
  return absl::StrCat("GET ", base::Sv(target), " HTTP/1.1\r\nHost: t\r\n",
                      base::Sv(extra), "\r\n");
}

std::string Post(std::string_view target, std::string_view body,
                 std::string_view extra) {
  return absl::StrCat("POST ", base::Sv(target),
                      " HTTP/1.1\r\nHost: t\r\nContent-Length: ", body.size(),
                      "\r\n", base::Sv(extra), "\r\n", base::Sv(body));
}

HttpResponse Echo(const HttpRequest& r, RequestContext&) {
  std::string out = absl::StrCat("method=", r.method, "\npath=", r.path,
                                 "\nroute=", r.route, "\n");
  for (const auto& [k, v] : r.params)
    absl::StrAppend(&out, "param:", k, "=", v, "\n");
  for (const auto& [k, v] : r.path_params)
    absl::StrAppend(&out, "path:", k, "=", v, "\n");
  absl::StrAppend(&out, "body=", r.body);
  return HttpResponse::Text(200, out);
}

void TestServer::Start(HttpServer::Options options) {
  options.listen_address = "127.0.0.1:0";
  if (options.query_threads == 0) options.query_threads = 2;
  if (options.ingest_threads == 0) options.ingest_threads = 1;
  server = std::make_unique<HttpServer>(options, router);
  absl::Status s = server->Start();
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_GT(server->port(), 0);
}

}  // namespace pantau::net::testing
