// The only translation unit of pantau::net that includes gRPC.
#include "net/grpc_server.h"

#include <arpa/inet.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "net/url.h"

namespace pantau::net {

namespace {

// gRPC spells "all interfaces" as "[::]:port" (falling back to IPv4 on
// hosts without IPv6).
std::string GrpcAddress(const HostPort& hp) {
  if (hp.host.empty()) return absl::StrCat("[::]:", hp.port);
  if (hp.host.find(':') != std::string::npos) {
    return absl::StrCat("[", hp.host, "]:", hp.port);
  }
  return absl::StrCat(hp.host, ":", hp.port);
}

// gRPC only logs why it could not listen; a bind of our own recovers the
// reason ("Address already in use") for the returned Status.
std::string WhyCannotBind(const HostPort& hp) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string port = std::to_string(hp.port);
  if (::getaddrinfo(hp.host.empty() ? nullptr : hp.host.c_str(), port.c_str(),
                    &hints, &res) != 0) {
    return "cannot resolve host";
  }
  std::string why = "unknown reason (see gRPC's log)";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      break;
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return why;
}

}  // namespace

class GrpcServer::Impl {
 public:
  explicit Impl(Options o) : options(std::move(o)) {}

  const Options options;
  std::vector<grpc::Service*> services;
  // Answers methods no registered service has (UNIMPLEMENTED, as gRPC
  // would anyway). It also gives gRPC a callback method to poll for, which
  // it insists on before it starts a server whose only service is the
  // built-in health check.
  grpc::CallbackGenericService unknown_methods;
  std::unique_ptr<grpc::Server> server;
  std::atomic<int> port{0};
  bool started = false;
  bool shut_down = false;
};

GrpcServer::GrpcServer(Options options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

GrpcServer::~GrpcServer() { Shutdown(absl::ZeroDuration()); }

void GrpcServer::RegisterService(grpc::Service* service) {
  impl_->services.push_back(service);
}

absl::Status GrpcServer::Start() {
  if (impl_->started) {
    return absl::FailedPreconditionError("gRPC server already started");
  }
  auto hp = ParseHostPort(impl_->options.listen_address);
  if (!hp.ok()) return hp.status();
  if (impl_->options.enable_health_service) {
    grpc::EnableDefaultHealthCheckService(true);
  }
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default, which lets a second process (or a
  // misconfigured second listener) bind the same port and silently share
  // its traffic. One owner per port, as for the HTTP server.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int selected_port = 0;
  builder.AddListeningPort(GrpcAddress(*hp), grpc::InsecureServerCredentials(),
                           &selected_port);
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::min<size_t>(impl_->options.max_receive_message_bytes,
                       std::numeric_limits<int>::max())));
  for (grpc::Service* s : impl_->services) builder.RegisterService(s);
  builder.RegisterCallbackGenericService(&impl_->unknown_methods);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || selected_port == 0) {
    if (server != nullptr) server->Shutdown();
    return absl::UnavailableError(absl::StrCat("cannot listen for gRPC on ",
                                               impl_->options.listen_address,
                                               ": ", WhyCannotBind(*hp)));
  }
  impl_->server = std::move(server);
  impl_->port = selected_port;
  impl_->started = true;
  return absl::OkStatus();
}

void GrpcServer::Shutdown(absl::Duration grace) {
  if (!impl_->started || impl_->shut_down) return;
  impl_->shut_down = true;
  auto deadline =
      std::chrono::system_clock::now() + absl::ToChronoMilliseconds(grace);
  impl_->server->Shutdown(deadline);
  impl_->server->Wait();
}

int GrpcServer::port() const { return impl_->port.load(); }

}  // namespace pantau::net
