// GrpcServer: runs gRPC services on their own listener beside the HTTP
// server (OTLP gRPC on :4317 uses it). Only grpc_server.cc includes gRPC
// headers; callers include their generated service headers themselves.
//
// Link pantau_net_grpc for this; modules that only speak HTTP link
// pantau_net and never pull in gRPC.
//
// Thread safety: RegisterService, Start and Shutdown are called from one
// controlling thread; port() is safe from any thread after Start. gRPC
// runs the services on its own threads.
#ifndef PANTAU_NET_GRPC_SERVER_H_
#define PANTAU_NET_GRPC_SERVER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace grpc {
class Service;
}

namespace pantau::net {

class GrpcServer {
 public:
  struct Options {
    // "host:port"; ":4317" listens on all interfaces, "127.0.0.1:0" on an
    // ephemeral port (see port()).
    std::string listen_address = ":4317";
    // Largest request message accepted; the OpenTelemetry Collector's
    // default is 4 MiB, batching exporters can send more.
    size_t max_receive_message_bytes = 16 << 20;
    // Serve grpc.health.v1.Health (SERVING while running). This is a
    // process-wide gRPC setting: it applies to every gRPC server the
    // process starts afterwards.
    bool enable_health_service = true;
  };

  explicit GrpcServer(Options options);
  // Shuts down with no grace period if still running.
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Before Start. Not owned: `service` must outlive the server.
  void RegisterService(grpc::Service* service);

  // Fails with INVALID_ARGUMENT for a bad address and UNAVAILABLE when it
  // cannot listen (e.g. "address already in use"). Call at most once.
  absl::Status Start();

  // Stops accepting RPCs, lets in-flight ones finish within `grace`, then
  // cancels the rest and waits for gRPC's threads. Idempotent.
  void Shutdown(absl::Duration grace);

  // The bound port, valid after a successful Start.
  int port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pantau::net

#endif  // PANTAU_NET_GRPC_SERVER_H_
