// The protocol errors HttpServer answers before routing (400, 408, 413,
// 415, 431, connection limit), each while other clients keep being served.
#include <atomic>
#include <map>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/compression.h"
#include "gtest/gtest.h"
#include "net/http_server.h"
#include "net/test_util.h"

namespace pantau::net {
namespace {

using testing::Echo;
using testing::Get;
using testing::Post;
using testing::ProtocolErrorCounter;
using testing::RawClient;
using testing::RoundTrip;
using testing::TestServer;

TEST(HttpServer, BodyOverLimitGets413AndRouteMayRaiseIt) {
  ProtocolErrorCounter errors;
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("POST", "/small", Echo).ok());
  RouteOptions big;
  big.max_body_bytes = 4096;
  ASSERT_TRUE(ts.router->Handle("POST", "/big", Echo, big).ok());
  HttpServer::Options o;
  o.max_body_bytes = 100;
  o.on_protocol_error = errors.Hook();
  ts.Start(o);
  std::string body(1000, 'x');
  auto r = RoundTrip(ts.port(), Post("/small", body));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(r->headers.Get("Connection"), "close");
  EXPECT_EQ(errors.Count("body_too_large"), 1);
  auto ok = RoundTrip(ts.port(), Post("/big", body));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  // A chunked body is limited by its decoded size too.
  std::string chunked =
      "POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "64\r\n" +
      std::string(100, 'a') + "\r\n10\r\n" + std::string(16, 'b') +
      "\r\n0\r\n\r\n";
  auto rc = RoundTrip(ts.port(), chunked);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(rc->status, 413);
}

TEST(HttpServer, RejectsBadCompressedBodies) {
  ProtocolErrorCounter errors;
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("POST", "/e", Echo).ok());
  HttpServer::Options o;
  o.max_decoded_body_bytes = 1000;
  o.on_protocol_error = errors.Hook();
  ts.Start(o);
  // A small body that expands past the decoded limit: 413.
  auto bomb = base::Compress(base::Codec::kGzip, std::string(100000, 'a'));
  ASSERT_TRUE(bomb.ok());
  ASSERT_LT(bomb->size(), 1000u);
  auto r1 =
      RoundTrip(ts.port(), Post("/e", *bomb, "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->status, 413);
  // Corrupt data: 400.
  auto r2 = RoundTrip(ts.port(), Post("/e", "definitely not gzip",
                                      "Content-Encoding: gzip\r\n"));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->status, 400);
  auto r3 = RoundTrip(ts.port(), Post("/e", "not snappy\xff\xff",
                                      "Content-Encoding: snappy\r\n"));
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->status, 400);
  // Unknown encoding: 415 before the body is read.
  auto r4 = RoundTrip(ts.port(), Post("/e", "x", "Content-Encoding: br\r\n"));
  ASSERT_TRUE(r4.ok());
  EXPECT_EQ(r4->status, 415);
  EXPECT_NE(r4->body.find("br"), std::string::npos);
  EXPECT_EQ(errors.Count("body_too_large"), 1);
  EXPECT_EQ(errors.Count("corrupt_body"), 2);
  EXPECT_EQ(errors.Count("unsupported_encoding"), 1);
}

TEST(HttpServer, MalformedRequestGets400AndOthersAreStillServed) {
  ProtocolErrorCounter errors;
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("GET", "/x", Echo).ok());
  HttpServer::Options o;
  o.on_protocol_error = errors.Hook();
  ts.Start(o);
  for (std::string bad : {"GARBAGE\r\n\r\n", "GET /x HTTP/9.9\r\n\r\n",
                          "GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
                          "GET /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                          "GET x HTTP/1.1\r\nHost: t\r\n\r\n"}) {
    auto r = RoundTrip(ts.port(), bad);
    ASSERT_TRUE(r.ok()) << bad << r.status();
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(r->headers.Get("Connection"), "close");
    EXPECT_FALSE(r->body.empty());
  }
  EXPECT_EQ(errors.Count("malformed"), 5);
  auto good = RoundTrip(ts.port(), Get("/x"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200);
}

TEST(HttpServer, OversizedHeaderGets431) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("GET", "/x", Echo).ok());
  HttpServer::Options o;
  o.max_header_bytes = 1024;
  ts.Start(o);
  auto r = RoundTrip(ts.port(),
                     Get("/x", "X-Big: " + std::string(4000, 'h') + "\r\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 431);
  auto good = RoundTrip(ts.port(), Get("/x"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200);
}

TEST(HttpServer, SlowClientGets408WhileOthersAreServed) {
  ProtocolErrorCounter errors;
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("GET", "/x", Echo).ok());
  HttpServer::Options o;
  o.read_header_timeout = absl::Milliseconds(300);
  o.on_protocol_error = errors.Hook();
  ts.Start(o);
  auto slow = RawClient::Connect(ts.port());
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->Send("GET /x HTTP/1.1\r\nHost: t\r\n"));  // never ends
  // Served while the slow client holds its connection.
  auto good = RoundTrip(ts.port(), Get("/x"));
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->status, 200);
  auto r = (*slow)->ReadResponse(absl::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 408);
  EXPECT_TRUE((*slow)->WaitClosed());
  EXPECT_EQ(errors.Count("timeout"), 1);
}

TEST(HttpServer, SlowBodyHitsWholeRequestTimeout) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("POST", "/x", Echo).ok());
  HttpServer::Options o;
  o.read_timeout = absl::Milliseconds(300);
  ts.Start(o);
  auto slow = RawClient::Connect(ts.port());
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->Send(
      "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab"));
  auto r = (*slow)->ReadResponse(absl::Seconds(10));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 408);
}

TEST(HttpServer, ClosesConnectionsBeyondTheLimit) {
  ProtocolErrorCounter errors;
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("GET", "/x", Echo).ok());
  HttpServer::Options o;
  o.max_connections = 1;
  o.on_protocol_error = errors.Hook();
  ts.Start(o);
  auto first = RawClient::Connect(ts.port());
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE((*first)->Send(Get("/x")));
  ASSERT_TRUE((*first)->ReadResponse().ok());  // first is registered now
  auto second = RawClient::Connect(ts.port());
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE((*second)->WaitClosed());
  EXPECT_EQ(errors.Count("too_many_connections"), 1);
}

}  // namespace
}  // namespace pantau::net
