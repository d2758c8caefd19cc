#include "net/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "base/compression.h"
#include "net/internal/http_parser.h"
#include "net/internal/message_writer.h"
#include "net/internal/strings.h"
#include "net/url.h"

namespace pantau::net {

using internal::Sv;

namespace {

// Plain POSIX sockets with poll() for timeouts: a synchronous client needs
// nothing more, and it keeps Asio out of this file.

int MillisLeft(absl::Time deadline) {
  absl::Duration left = deadline - absl::Now();
  if (left <= absl::ZeroDuration()) return 0;
  int64_t ms = absl::ToInt64Milliseconds(left) + 1;
  return ms > 1 << 30 ? 1 << 30 : static_cast<int>(ms);
}

// Waits for `events` on fd; false on timeout.
bool WaitFor(int fd, short events, absl::Time deadline) {
  while (true) {
    int ms = MillisLeft(deadline);
    if (ms == 0) return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return true;  // let the next call report it
  }
}

bool IsIdempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" ||
         method == "PUT" || method == "DELETE" || method == "TRACE";
}

bool ValidMethod(std::string_view m) {
  if (m.empty()) return false;
  for (char c : m) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

absl::Status Timeout(const std::string& what, absl::Duration timeout) {
  return absl::DeadlineExceededError(
      absl::StrCat(what, ": timed out after ", absl::FormatDuration(timeout)));
}

absl::StatusOr<int> Connect(const Url& url, absl::Time deadline,
                            absl::Duration shown_timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(url.port);
  int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return absl::UnavailableError(absl::StrCat("cannot resolve \"", url.host,
                                               "\": ", ::gai_strerror(rc)));
  }
  std::string last_error = "no addresses";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int err = 0;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        if (!WaitFor(fd, POLLOUT, deadline)) {
          ::close(fd);
          ::freeaddrinfo(res);
          return Timeout(absl::StrCat("connect to ", url.HostHeader()),
                         shown_timeout);
        }
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      }
    }
    if (err != 0) {
      last_error = std::strerror(err);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return absl::UnavailableError(
      absl::StrCat("connect to ", url.HostHeader(), ": ", last_error));
}

struct ExchangeResult {
  absl::Status status;
  bool received_any = false;  // any response byte arrived
  internal::ParsedResponse response;
  bool reusable = false;
};

}  // namespace

class HttpClient::Impl {
 public:
  explicit Impl(Options o) : options_(std::move(o)) {}
  ~Impl() { CloseIdle(); }

  absl::StatusOr<HttpClientResponse> Do(const HttpClientRequest& req);
  void CloseIdle();

 private:
  struct IdleConn {
    int fd;
    absl::Time since;
  };

  int TakeIdle(const std::string& key);
  void PutIdle(const std::string& key, int fd);
  ExchangeResult Exchange(int fd, const std::string& head,
                          std::string_view body, bool head_request,
                          absl::Time deadline, size_t max_body,
                          absl::Duration shown_timeout);

  const Options options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::vector<IdleConn>> idle_
      ABSL_GUARDED_BY(mu_);
};

int HttpClient::Impl::TakeIdle(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = idle_.find(key);
  if (it == idle_.end()) return -1;
  std::vector<IdleConn>& conns = it->second;
  while (!conns.empty()) {
    IdleConn c = conns.back();
    conns.pop_back();
    // A pooled connection that is readable has been closed by the server
    // (or sent garbage): either way it cannot carry a request.
    pollfd p{c.fd, POLLIN, 0};
    if (absl::Now() - c.since > options_.idle_timeout ||
        ::poll(&p, 1, 0) != 0) {
      ::close(c.fd);
      continue;
    }
    return c.fd;
  }
  return -1;
}

void HttpClient::Impl::PutIdle(const std::string& key, int fd) {
  absl::MutexLock lock(&mu_);
  std::vector<IdleConn>& conns = idle_[key];
  if (static_cast<int>(conns.size()) >= options_.max_idle_per_host) {
    ::close(fd);
    return;
  }
  conns.push_back({fd, absl::Now()});
}

void HttpClient::Impl::CloseIdle() {
  absl::MutexLock lock(&mu_);
  for (auto& [key, conns] : idle_) {
    for (const IdleConn& c : conns) ::close(c.fd);
  }
  idle_.clear();
}

ExchangeResult HttpClient::Impl::Exchange(int fd, const std::string& head,
                                          std::string_view body,
                                          bool head_request,
                                          absl::Time deadline, size_t max_body,
                                          absl::Duration shown_timeout) {
  ExchangeResult out;
  // Send the head and the body.
  for (std::string_view part : {std::string_view(head), body}) {
    while (!part.empty()) {
      ssize_t n = ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
      if (n > 0) {
        part.remove_prefix(static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!WaitFor(fd, POLLOUT, deadline)) {
          out.status = Timeout("sending request", shown_timeout);
          return out;
        }
        continue;
      }
      out.status = absl::UnavailableError(
          absl::StrCat("sending request: ", std::strerror(errno)));
      return out;
    }
  }
  // Read until one final (non-1xx) response is complete.
  std::string buf;
  char chunk[16384];
  auto reader = std::make_unique<internal::ResponseReader>(
      options_.max_header_bytes, max_body, head_request);
  while (true) {
    if (!buf.empty()) {
      size_t used = reader->Feed(buf);
      buf.erase(0, used);
    }
    if (!reader->status().ok()) {
      out.status = reader->status();
      return out;
    }
    if (reader->done()) {
      internal::ParsedResponse r = reader->TakeResponse();
      if (r.status >= 100 && r.status < 200 && r.status != 101) {
        reader = std::make_unique<internal::ResponseReader>(
            options_.max_header_bytes, max_body, head_request);
        continue;  // an interim response: the real one follows
      }
      out.reusable = r.keep_alive && buf.empty();
      out.response = std::move(r);
      return out;
    }
    if (!WaitFor(fd, POLLIN, deadline)) {
      out.status = Timeout("waiting for response", shown_timeout);
      return out;
    }
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      out.received_any = true;
      buf.append(chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
      continue;
    }
    if (n < 0) {
      out.status = absl::UnavailableError(
          absl::StrCat("reading response: ", std::strerror(errno)));
      return out;
    }
    reader->FeedEof();
    if (!reader->status().ok()) {
      out.status = reader->status();
      return out;
    }
    if (!reader->done()) {
      out.status = absl::UnavailableError("connection closed mid-response");
      return out;
    }
  }
}

absl::StatusOr<HttpClientResponse> HttpClient::Impl::Do(
    const HttpClientRequest& req) {
  auto url = ParseUrl(req.url);
  if (!url.ok()) return url.status();
  if (!ValidMethod(req.method)) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid HTTP method \"", req.method, "\""));
  }
  absl::Duration timeout =
      req.timeout > absl::ZeroDuration() ? req.timeout : options_.timeout;
  absl::Duration connect_timeout = req.connect_timeout > absl::ZeroDuration()
                                       ? req.connect_timeout
                                       : options_.connect_timeout;
  size_t max_body = req.max_response_bytes > 0 ? req.max_response_bytes
                                               : options_.max_response_bytes;
  absl::Time start = absl::Now();
  absl::Time deadline = start + timeout;

  HttpHeaders headers = req.headers;
  if (!headers.Has("User-Agent"))
    headers.Add("User-Agent", options_.user_agent);
  bool we_asked_gzip = false;
  if (options_.accept_gzip && !headers.Has("Accept-Encoding")) {
    headers.Add("Accept-Encoding", "gzip");
    we_asked_gzip = true;
  }
  if (options_.max_idle_per_host <= 0) headers.Set("Connection", "close");
  std::string head = internal::SerializeRequestHead(
      req.method, url->target, url->HostHeader(), headers, req.body.size());
  const std::string key = url->HostHeader();
  const bool head_request = req.method == "HEAD";

  ExchangeResult result;
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = TakeIdle(key);
    bool reused = fd >= 0;
    if (!reused) {
      auto c = Connect(*url, std::min(deadline, absl::Now() + connect_timeout),
                       std::min(timeout, connect_timeout));
      if (!c.ok()) return c.status();
      fd = *c;
    }
    result =
        Exchange(fd, head, req.body, head_request, deadline, max_body, timeout);
    if (result.status.ok() && result.reusable &&
        options_.max_idle_per_host > 0) {
      PutIdle(key, fd);
    } else {
      ::close(fd);
    }
    if (result.status.ok()) break;
    // A reused connection the server had closed fails before any response
    // byte; a fresh connection gets one more try when that is safe.
    bool retry = reused && !result.received_any &&
                 result.status.code() == absl::StatusCode::kUnavailable &&
                 IsIdempotent(req.method) && absl::Now() < deadline;
    if (!retry) {
      return absl::Status(result.status.code(),
                          absl::StrCat(req.method, " ", req.url, ": ",
                                       result.status.message()));
    }
  }

  HttpClientResponse out;
  out.status = result.response.status;
  out.headers = std::move(result.response.headers);
  out.body = std::move(result.response.body);
  std::string_view encoding = out.headers.Get("Content-Encoding");
  if (we_asked_gzip && (internal::EqualsIgnoreCase(encoding, "gzip") ||
                        internal::EqualsIgnoreCase(encoding, "x-gzip"))) {
    auto plain = base::Decompress(base::Codec::kGzip, out.body, max_body);
    if (!plain.ok()) {
      return absl::Status(
          plain.status().code(),
          absl::StrCat(req.method, " ", req.url,
                       ": decoding gzip response: ", plain.status().message()));
    }
    out.body = *std::move(plain);
    out.headers.Remove("Content-Encoding");
    out.headers.Remove("Content-Length");
  }
  return out;
}

HttpClient::HttpClient() : HttpClient(Options()) {}
HttpClient::HttpClient(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}
HttpClient::~HttpClient() = default;

absl::StatusOr<HttpClientResponse> HttpClient::Do(
    const HttpClientRequest& request) {
  return impl_->Do(request);
}

absl::StatusOr<HttpClientResponse> HttpClient::Get(std::string_view url) {
  HttpClientRequest r;
  r.url = std::string(url);
  return impl_->Do(r);
}

absl::StatusOr<HttpClientResponse> HttpClient::Post(
    std::string_view url, std::string_view content_type, std::string body) {
  HttpClientRequest r;
  r.method = "POST";
  r.url = std::string(url);
  r.headers.Add("Content-Type", std::string(content_type));
  r.body = std::move(body);
  return impl_->Do(r);
}

void HttpClient::CloseIdleConnections() { impl_->CloseIdle(); }

}  // namespace pantau::net
