#include "net/http_server.h"

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

TEST(HttpServer, ServesRoutesWithQueryAndPathParams) {
  TestServer ts;
  ASSERT_TRUE(
      ts.router->Handle("GET", "/api/v1/label/:name/values", Echo).ok());
  ts.Start();
  auto r = RoundTrip(ts.port(),
                     Get("/api/v1/label/job/values?match[]=up&match[]=a%20b"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("route=/api/v1/label/:name/values\n"),
            std::string::npos);
  EXPECT_NE(r->body.find("path:name=job\n"), std::string::npos);
  EXPECT_NE(r->body.find("param:match[]=up\nparam:match[]=a b\n"),
            std::string::npos);
  EXPECT_FALSE(r->headers.Get("Date").empty());
}

TEST(HttpServer, MergesFormBodyParamsBeforeQueryParams) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("POST", "/api/v1/query", Echo).ok());
  ts.Start();
  auto r = RoundTrip(
      ts.port(),
      Post("/api/v1/query?query=from_url&x=1", "query=sum%28up%29&time=5",
           "Content-Type: application/x-www-form-urlencoded; "
           "charset=UTF-8\r\n"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(
      r->body.find("param:query=sum(up)\nparam:time=5\n"
                   "param:query=from_url\nparam:x=1\n") != std::string::npos,
      true)
      << r->body;
}

TEST(HttpServer, AnswersUnknownPath404AndWrongMethod405) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("GET", "/x", Echo).ok());
  ts.Start();
  auto r404 = RoundTrip(ts.port(), Get("/nope"));
  ASSERT_TRUE(r404.ok());
  EXPECT_EQ(r404->status, 404);
  auto r405 = RoundTrip(ts.port(), Post("/x", "b"));
  ASSERT_TRUE(r405.ok());
  EXPECT_EQ(r405->status, 405);
  EXPECT_EQ(r405->headers.Get("Allow"), "GET, HEAD");
}

TEST(HttpServer, HeadSendsHeadersWithoutBody) {
  TestServer ts;
  ASSERT_TRUE(ts.router
                  ->Handle("GET", "/x",
                           [](const HttpRequest&, RequestContext&) {
                             return HttpResponse::Text(200, "hello");
                           })
                  .ok());
  ts.Start();
  auto c = RawClient::Connect(ts.port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n" + Get("/x")));
  auto head = (*c)->ReadResponse(absl::Seconds(10), /*head=*/true);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers.Get("Content-Length"), "5");
  EXPECT_EQ(head->body, "");
  // The next response on the same connection starts right after the head.
  auto get = (*c)->ReadResponse();
  ASSERT_TRUE(get.ok()) << get.status();
  EXPECT_EQ(get->body, "hello");
}

TEST(HttpServer, KeepsConnectionsAliveAndAnswersPipelinedRequestsInOrder) {
  TestServer ts;
  ASSERT_TRUE(ts.router
                  ->Handle("GET", "/n/:i",
                           [](const HttpRequest& r, RequestContext&) {
                             return HttpResponse::Text(
                                 200, std::string(r.PathParam("i")));
                           })
                  .ok());
  ts.Start();
  auto c = RawClient::Connect(ts.port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(Get("/n/1")));
  auto r1 = (*c)->ReadResponse();
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->body, "1");
  EXPECT_TRUE(r1->keep_alive);
  // Three requests in one write.
  ASSERT_TRUE((*c)->Send(Get("/n/2") + Get("/n/3") + Get("/n/4")));
  for (std::string want : {"2", "3", "4"}) {
    auto r = (*c)->ReadResponse();
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, want);
  }
  EXPECT_EQ(ts.server->connection_count(), 1);
  // Connection: close is honoured.
  ASSERT_TRUE((*c)->Send(Get("/n/5", "Connection: close\r\n")));
  auto r5 = (*c)->ReadResponse();
  ASSERT_TRUE(r5.ok());
  EXPECT_EQ(r5->headers.Get("Connection"), "close");
  EXPECT_TRUE((*c)->WaitClosed());
}

TEST(HttpServer, AnswersPipelinedRequestsSentBeforeAHalfClose) {
  TestServer ts;
  ASSERT_TRUE(ts.router
                  ->Handle("GET", "/n/:i",
                           [](const HttpRequest& r, RequestContext&) {
                             return HttpResponse::Text(
                                 200, std::string(r.PathParam("i")));
                           })
                  .ok());
  ts.Start();
  auto c = RawClient::Connect(ts.port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(Get("/n/1") + Get("/n/2") + Get("/n/3")));
  (*c)->ShutdownWrite();
  for (std::string want : {"1", "2", "3"}) {
    auto r = (*c)->ReadResponse();
    ASSERT_TRUE(r.ok()) << want << " " << r.status();
    EXPECT_EQ(r->body, want);
  }
  EXPECT_TRUE((*c)->WaitClosed());
  // A half-closed connection with an incomplete request is closed.
  auto p = RawClient::Connect(ts.port());
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE((*p)->Send("GET /n/1 HTTP/1.1\r\nHo"));
  (*p)->ShutdownWrite();
  EXPECT_TRUE((*p)->WaitClosed());
}

TEST(HttpServer, DecodesChunkedBodies) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("POST", "/e", Echo).ok());
  ts.Start();
  auto r =
      RoundTrip(ts.port(),
                "POST /e HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                "\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->body.find("body=abcde"), std::string::npos);
}

TEST(HttpServer, DecodesCompressedBodies) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("POST", "/e", Echo).ok());
  ts.Start();
  std::string plain = "payload " + std::string(200, 'z');
  struct Case {
    base::Codec codec;
    std::string header;
  };
  for (const Case& c :
       {Case{base::Codec::kGzip, "gzip"}, Case{base::Codec::kSnappy, "snappy"},
        Case{base::Codec::kZstd, "zstd"}}) {
    auto compressed = base::Compress(c.codec, plain);
    ASSERT_TRUE(compressed.ok());
    auto r = RoundTrip(
        ts.port(),
        Post("/e", *compressed, "Content-Encoding: " + c.header + "\r\n"));
    ASSERT_TRUE(r.ok()) << c.header << " " << r.status();
    EXPECT_EQ(r->status, 200) << c.header;
    EXPECT_NE(r->body.find("body=" + plain), std::string::npos) << c.header;
  }
}

TEST(HttpServer, IdleKeepAliveConnectionIsClosed) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("GET", "/x", Echo).ok());
  HttpServer::Options o;
  o.idle_timeout = absl::Milliseconds(200);
  ts.Start(o);
  auto c = RawClient::Connect(ts.port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(Get("/x")));
  ASSERT_TRUE((*c)->ReadResponse().ok());
  EXPECT_TRUE((*c)->WaitClosed(absl::Seconds(10)));
}

TEST(HttpServer, CompressesLargeResponsesForGzipClients) {
  TestServer ts;
  std::string big(10000, 'q');
  ASSERT_TRUE(ts.router
                  ->Handle("GET", "/big",
                           [&](const HttpRequest&, RequestContext&) {
                             return HttpResponse::Json(200, big);
                           })
                  .ok());
  ASSERT_TRUE(ts.router
                  ->Handle("GET", "/small",
                           [](const HttpRequest&, RequestContext&) {
                             return HttpResponse::Json(200, "{}");
                           })
                  .ok());
  ts.Start();
  auto gz =
      RoundTrip(ts.port(), Get("/big", "Accept-Encoding: gzip, deflate\r\n"));
  ASSERT_TRUE(gz.ok());
  EXPECT_EQ(gz->headers.Get("Content-Encoding"), "gzip");
  EXPECT_EQ(gz->headers.Get("Vary"), "Accept-Encoding");
  EXPECT_LT(gz->body.size(), big.size());
  auto plain = base::Decompress(base::Codec::kGzip, gz->body, 1 << 20);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, big);
  auto raw = RoundTrip(ts.port(), Get("/big"));
  ASSERT_TRUE(raw.ok());
  EXPECT_FALSE(raw->headers.Has("Content-Encoding"));
  EXPECT_EQ(raw->body, big);
  auto small = RoundTrip(ts.port(), Get("/small", "Accept-Encoding: gzip\r\n"));
  ASSERT_TRUE(small.ok());
  EXPECT_FALSE(small->headers.Has("Content-Encoding"));
}

TEST(HttpServer, AnswersExpectContinue) {
  TestServer ts;
  ASSERT_TRUE(ts.router->Handle("POST", "/e", Echo).ok());
  ts.Start();
  auto c = RawClient::Connect(ts.port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(
      (*c)->Send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: "
                 "100-continue\r\n\r\n"));
  auto interim = (*c)->ReadResponse();
  ASSERT_TRUE(interim.ok()) << interim.status();
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE((*c)->Send("data"));
  auto r = (*c)->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("body=data"), std::string::npos);
}

TEST(HttpServer, MiddlewareWrapsServedRequests) {
  TestServer ts;
  std::atomic<int> seen{0};
  ts.router->Use(
      [&](const HttpRequest& req, RequestContext& ctx, const Handler& next) {
        HttpResponse r = next(req, ctx);
        r.headers.Set("X-Route", req.route);
        seen++;
        return r;
      });
  ASSERT_TRUE(ts.router->Handle("GET", "/a/:b", Echo).ok());
  ts.Start();
  auto r = RoundTrip(ts.port(), Get("/a/1"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->headers.Get("X-Route"), "/a/:b");
  auto n = RoundTrip(ts.port(), Get("/zzz"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->status, 404);
  EXPECT_EQ(seen.load(), 2);
}

TEST(HttpServer, RunsHandlersOffTheIoThreadsOnTheirPools) {
  TestServer ts;
  absl::Mutex mu;
  std::map<std::string, std::thread::id> where;
  auto record = [&](std::string name) {
    return [&, name](const HttpRequest&, RequestContext&) {
      absl::MutexLock l(&mu);
      where[name] = std::this_thread::get_id();
      return HttpResponse::Text(200, "");
    };
  };
  RouteOptions ingest{Executor::kIngest};
  RouteOptions inline_opts{Executor::kInline};
  ASSERT_TRUE(ts.router->Handle("GET", "/q", record("q")).ok());
  ASSERT_TRUE(ts.router->Handle("GET", "/i", record("i"), ingest).ok());
  ASSERT_TRUE(ts.router->Handle("GET", "/n", record("n"), inline_opts).ok());
  HttpServer::Options o;
  o.query_threads = 1;
  o.ingest_threads = 1;
  ts.Start(o);
  for (const char* p : {"/q", "/i", "/n"}) {
    auto r = RoundTrip(ts.port(), Get(p));
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200);
  }
  absl::MutexLock l(&mu);
  EXPECT_NE(where["q"], where["i"]);
  EXPECT_NE(where["q"], where["n"]);
  EXPECT_NE(where["i"], where["n"]);
}

TEST(HttpServer, CancelsContextWhenClientDisconnects) {
  TestServer ts;
  absl::Notification started, saw_cancel;
  ASSERT_TRUE(
      ts.router
          ->Handle("GET", "/slow",
                   [&](const HttpRequest&, RequestContext& ctx) {
                     started.Notify();
                     absl::Time deadline = absl::Now() + absl::Seconds(20);
                     while (!ctx.Cancelled() && absl::Now() < deadline) {
                       absl::SleepFor(absl::Milliseconds(
                           5));  // a handler polling its flag
                     }
                     if (ctx.Cancelled()) saw_cancel.Notify();
                     return HttpResponse::Text(200, "late");
                   })
          .ok());
  ts.Start();
  auto c = RawClient::Connect(ts.port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(Get("/slow")));
  started.WaitForNotification();
  (*c)->Close();
  EXPECT_TRUE(saw_cancel.WaitForNotificationWithTimeout(absl::Seconds(15)));
}

TEST(HttpServer, GracefulShutdownFinishesInFlightRequests) {
  auto ts = std::make_unique<TestServer>();
  absl::Notification started, release;
  std::atomic<bool> cancelled{false};
  ASSERT_TRUE(
      ts->router
          ->Handle("GET", "/slow",
                   [&](const HttpRequest&, RequestContext& ctx) {
                     started.Notify();
                     release.WaitForNotificationWithTimeout(absl::Seconds(20));
                     cancelled = ctx.Cancelled();
                     return HttpResponse::Text(200, std::string(50000, 'r'));
                   })
          .ok());
  ts->Start();
  int port = ts->port();
  auto idle = RawClient::Connect(port);  // an idle keep-alive connection
  ASSERT_TRUE(idle.ok());
  auto c = RawClient::Connect(port);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(Get("/slow")));
  started.WaitForNotification();

  std::thread stopper([&] { ts->server->Shutdown(absl::Seconds(30)); });
  // New connections are refused once the listener is closed.
  bool refused = false;
  for (int i = 0; i < 1000 && !refused; ++i) {
    auto probe = RawClient::Connect(port);
    refused = !probe.ok();
    if (!refused) absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_TRUE(refused);
  EXPECT_TRUE((*idle)->WaitClosed());  // idle connections are closed at once
  release.Notify();
  auto r = (*c)->ReadResponse();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body.size(), 50000u);
  EXPECT_EQ(r->headers.Get("Connection"), "close");
  EXPECT_FALSE(cancelled.load());
  stopper.join();
}

TEST(HttpServer, ShutdownPastGraceCancelsHandlers) {
  auto ts = std::make_unique<TestServer>();
  absl::Notification started;
  std::atomic<bool> cancelled{false};
  ASSERT_TRUE(
      ts->router
          ->Handle("GET", "/stuck",
                   [&](const HttpRequest&, RequestContext& ctx) {
                     started.Notify();
                     absl::Time deadline = absl::Now() + absl::Seconds(20);
                     while (!ctx.Cancelled() && absl::Now() < deadline) {
                       absl::SleepFor(absl::Milliseconds(5));
                     }
                     cancelled = ctx.Cancelled();
                     return HttpResponse::Text(200, "x");
                   })
          .ok());
  ts->Start();
  auto c = RawClient::Connect(ts->port());
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Send(Get("/stuck")));
  started.WaitForNotification();
  ts->server->Shutdown(absl::Milliseconds(100));
  EXPECT_TRUE(cancelled.load());
  EXPECT_TRUE((*c)->WaitClosed());
}

TEST(HttpServer, StartFailsClearlyWhenAddressInUse) {
  TestServer ts;
  ts.Start();
  HttpServer::Options o;
  o.listen_address = absl::StrCat("127.0.0.1:", ts.port());
  HttpServer second(o, ts.router);
  absl::Status s = second.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("in use"), absl::string_view::npos) << s;
  HttpServer::Options bad;
  bad.listen_address = "nonsense";
  EXPECT_EQ(HttpServer(bad, ts.router).Start().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pantau::net
