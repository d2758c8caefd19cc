#include "net/grpc_server.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/method_handler.h>
#include <grpcpp/impl/codegen/rpc_service_method.h>
#include <grpcpp/impl/codegen/service_type.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace pantau::net {
namespace {

// A unary service built the way generated code does, on raw bytes, so the
// test needs no .proto: /pantau.test.Echo/Echo returns its request.
class EchoService : public grpc::Service {
 public:
  EchoService() {
    AddMethod(new grpc::internal::RpcServiceMethod(
        "/pantau.test.Echo/Echo", grpc::internal::RpcMethod::NORMAL_RPC,
        new grpc::internal::RpcMethodHandler<EchoService, grpc::ByteBuffer,
                                             grpc::ByteBuffer>(
            [](EchoService*, grpc::ServerContext*, const grpc::ByteBuffer* req,
               grpc::ByteBuffer* resp) {
              *resp = *req;
              return grpc::Status::OK;
            },
            this)));
  }
};

// Calls `method` with `payload`, returns the reply bytes.
absl::StatusOr<std::string> Call(int port, const std::string& method,
                                 const std::string& payload);

// Calls grpc.health.v1.Health/Check for the whole server ("" service)
// without generated code: the empty request encodes to no bytes and a
// SERVING reply to the two bytes 08 01 (field 1, varint 1).
absl::StatusOr<std::string> HealthCheck(int port) {
  return Call(port, "/grpc.health.v1.Health/Check", "");
}

absl::StatusOr<std::string> Call(int port, const std::string& method,
                                 const std::string& payload) {
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice message(payload);
  grpc::ByteBuffer request(&message, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return absl::InternalError("dump failed");
  std::string out;
  for (const grpc::Slice& s : slices) {
    out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return out;
}

TEST(GrpcServer, ServesHealthOnAnEphemeralPortAndStops) {
  GrpcServer::Options o;
  o.listen_address = "127.0.0.1:0";
  GrpcServer server(o);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_GT(server.port(), 0);
  auto reply = HealthCheck(server.port());
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, std::string("\x08\x01", 2));
  int port = server.port();
  server.Shutdown(absl::Seconds(1));
  server.Shutdown(absl::Seconds(1));  // idempotent
  EXPECT_FALSE(HealthCheck(port).ok());
}

TEST(GrpcServer, RunsRegisteredServices) {
  EchoService echo;
  GrpcServer::Options o;
  o.listen_address = "127.0.0.1:0";
  GrpcServer server(o);
  server.RegisterService(&echo);
  ASSERT_TRUE(server.Start().ok());
  auto reply = Call(server.port(), "/pantau.test.Echo/Echo", "ping");
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(*reply, "ping");
  auto unknown = Call(server.port(), "/pantau.test.Echo/Nope", "x");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kUnimplemented);
  server.Shutdown(absl::Seconds(1));
}

TEST(GrpcServer, StartFailsClearlyWhenAddressInUse) {
  GrpcServer::Options o;
  o.listen_address = "127.0.0.1:0";
  GrpcServer first(o);
  ASSERT_TRUE(first.Start().ok());
  GrpcServer::Options again;
  again.listen_address = absl::StrCat("127.0.0.1:", first.port());
  GrpcServer second(again);
  absl::Status s = second.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("in use"), absl::string_view::npos) << s;

  GrpcServer::Options bad;
  bad.listen_address = "no-port";
  EXPECT_EQ(GrpcServer(bad).Start().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pantau::net
