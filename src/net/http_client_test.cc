#include "net/http_client.h"

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "base/strings.h"
#include "gtest/gtest.h"
#include "net/test_util.h"

namespace pantau::net {
namespace {

using testing::TestServer;

std::string UrlOf(const TestServer& ts, std::string_view path) {
  return absl::StrCat("http://127.0.0.1:", ts.port(), base::Sv(path));
}

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto echo = [this](const HttpRequest& r, RequestContext&) {
      {
        absl::MutexLock l(&mu_);
        peers_.insert(r.remote_address);
      }
      HttpResponse resp = HttpResponse::Text(
          200,
          absl::StrCat(r.method, " ", r.target, " ", base::Sv(r.Param("q")),
                       " ", base::Sv(r.Header("Content-Type")), " ",
                       base::Sv(r.Header("User-Agent")), " ", r.body));
      resp.headers.Set("X-Host", std::string(r.Header("Host")));
      return resp;
    };
    ASSERT_TRUE(ts_.router->Handle({"GET", "POST", "PUT"}, "/echo", echo).ok());
    ASSERT_TRUE(ts_.router
                    ->Handle("GET", "/big",
                             [](const HttpRequest& r, RequestContext&) {
                               HttpResponse resp = HttpResponse::Text(
                                   200, std::string(20000, 'b'));
                               resp.headers.Set(
                                   "X-Accept-Encoding",
                                   std::string(r.Header("Accept-Encoding")));
                               return resp;
                             })
                    .ok());
    ASSERT_TRUE(ts_.router
                    ->Handle("GET", "/slow",
                             [this](const HttpRequest&, RequestContext&) {
                               release_.WaitForNotificationWithTimeout(
                                   absl::Seconds(20));
                               return HttpResponse::Text(200, "late");
                             })
                    .ok());
    ASSERT_TRUE(ts_.router
                    ->Handle("GET", "/teapot",
                             [](const HttpRequest&, RequestContext&) {
                               return HttpResponse::Error(418,
                                                          "short and stout");
                             })
                    .ok());
  }
  void TearDown() override {
    release_.Notify();
    if (ts_.server) ts_.server->Shutdown(absl::Seconds(5));
  }
  size_t PeerCount() {
    absl::MutexLock l(&mu_);
    return peers_.size();
  }

  TestServer ts_;
  absl::Notification release_;
  absl::Mutex mu_;
  std::set<std::string> peers_;
};

TEST_F(HttpClientTest, GetsAndPosts) {
  ts_.Start();
  HttpClient client;
  auto g = client.Get(UrlOf(ts_, "/echo?q=a%20b"));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->status, 200);
  EXPECT_EQ(g->body, "GET /echo?q=a%20b a b  pantau/0.1 ");
  EXPECT_EQ(g->headers.Get("X-Host"), absl::StrCat("127.0.0.1:", ts_.port()));
  auto p = client.Post(UrlOf(ts_, "/echo"), "application/json", "{\"x\":1}");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->body, "POST /echo  application/json pantau/0.1 {\"x\":1}");
  HttpClientRequest put;
  put.method = "PUT";
  put.url = UrlOf(ts_, "/echo");
  put.headers.Add("User-Agent", "custom");
  auto u = client.Do(put);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->body, "PUT /echo   custom ");
}

TEST_F(HttpClientTest, ReturnsErrorStatusesAsResponses) {
  ts_.Start();
  HttpClient client;
  auto r = client.Get(UrlOf(ts_, "/teapot"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status, 418);
  EXPECT_EQ(r->body, "short and stout\n");
  auto n = client.Get(UrlOf(ts_, "/missing"));
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->status, 404);
}

TEST_F(HttpClientTest, ReusesKeepAliveConnections) {
  ts_.Start();
  HttpClient client;
  for (int i = 0; i < 5; ++i) {
    auto r = client.Get(UrlOf(ts_, "/echo"));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  EXPECT_EQ(PeerCount(), 1u);
}

TEST_F(HttpClientTest, RecoversFromAConnectionTheServerClosed) {
  HttpServer::Options o;
  o.idle_timeout = absl::Milliseconds(50);
  ts_.Start(o);
  HttpClient client;
  ASSERT_TRUE(client.Get(UrlOf(ts_, "/echo")).ok());
  // Wait until the server has dropped the idle connection.
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (ts_.server->connection_count() > 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(ts_.server->connection_count(), 0);
  auto r = client.Get(UrlOf(ts_, "/echo"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(PeerCount(), 2u);
}

TEST_F(HttpClientTest, TimesOut) {
  ts_.Start();
  HttpClient client;
  HttpClientRequest req;
  req.url = UrlOf(ts_, "/slow");
  req.timeout = absl::Milliseconds(200);
  auto r = client.Do(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded)
      << r.status();
  EXPECT_NE(r.status().message().find("timed out"), absl::string_view::npos);
}

TEST_F(HttpClientTest, EnforcesResponseSizeLimit) {
  ts_.Start();
  HttpClient::Options o;
  o.accept_gzip = false;
  HttpClient client(o);
  HttpClientRequest req;
  req.url = UrlOf(ts_, "/big");
  req.max_response_bytes = 1000;
  EXPECT_EQ(client.Do(req).status().code(),
            absl::StatusCode::kResourceExhausted);
  // With gzip the compressed body is small, but the decoded one is not.
  HttpClient gz_client;
  EXPECT_EQ(gz_client.Do(req).status().code(),
            absl::StatusCode::kResourceExhausted);
  req.max_response_bytes = 0;
  EXPECT_TRUE(client.Do(req).ok());
}

TEST_F(HttpClientTest, DecodesGzipResponses) {
  ts_.Start();
  HttpClient client;
  auto r = client.Get(UrlOf(ts_, "/big"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->headers.Get("X-Accept-Encoding"), "gzip");
  EXPECT_FALSE(r->headers.Has("Content-Encoding"));
  EXPECT_EQ(r->body, std::string(20000, 'b'));
  // A caller that asks for an encoding itself gets the body as sent.
  HttpClientRequest req;
  req.url = UrlOf(ts_, "/big");
  req.headers.Add("Accept-Encoding", "gzip");
  auto raw = client.Do(req);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->headers.Get("Content-Encoding"), "gzip");
  EXPECT_LT(raw->body.size(), 20000u);
}

TEST_F(HttpClientTest, ReportsConnectionFailuresAndBadUrls) {
  ts_.Start();
  int port = ts_.port();
  ts_.server->Shutdown(absl::ZeroDuration());
  HttpClient client;
  auto r = client.Get(absl::StrCat("http://127.0.0.1:", port, "/"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
  EXPECT_EQ(client.Get("https://127.0.0.1/").status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(client.Get("not a url").status().code(),
            absl::StatusCode::kInvalidArgument);
  HttpClientRequest bad;
  bad.method = "GET /x";
  bad.url = "http://127.0.0.1:1/";
  EXPECT_EQ(client.Do(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(HttpClientTest, IsSafeToShareAcrossThreads) {
  ts_.Start();
  HttpClient client;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = client.Get(UrlOf(ts_, "/echo"));
        if (r.ok() && r->status == 200) ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 80);
}

}  // namespace
}  // namespace pantau::net
