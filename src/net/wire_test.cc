// Unit tests of the wire-level pieces the server and client share:
// request parsing and preparation, response serialization.
#include <string>

#include "absl/time/time.h"
#include "base/compression.h"
#include "gtest/gtest.h"
#include "net/internal/http_parser.h"
#include "net/internal/message_writer.h"
#include "net/internal/request_prep.h"

namespace pantau::net::internal {
namespace {

TEST(RequestReader, ParsesIncrementallyAndLeavesPipelinedBytes) {
  RequestReader r(1024);
  std::string in = "POST /a?b=1 HTTP/1.1\r\nHost: x\r\nContent-Len";
  in.erase(0, r.Feed(in));
  EXPECT_FALSE(r.header_done());
  in += "gth: 3\r\n\r\nabcGET / HTTP/1.1\r\n\r\n";
  in.erase(0, r.Feed(in));
  ASSERT_TRUE(r.header_done());
  EXPECT_EQ(r.method(), "POST");
  EXPECT_EQ(r.target(), "/a?b=1");
  EXPECT_EQ(r.content_length(), 3u);
  EXPECT_FALSE(r.done());  // waits for the body limit
  r.SetBodyLimit(10);
  in.erase(0, r.Feed(in));
  ASSERT_TRUE(r.done());
  EXPECT_EQ(in, "GET / HTTP/1.1\r\n\r\n");
  HttpRequest req = r.TakeRequest();
  EXPECT_EQ(req.body, "abc");
  EXPECT_EQ(req.headers.Get("host"), "x");
}

TEST(RequestReader, ReportsLimitsAndMalformedInput) {
  RequestReader big(64);
  big.Feed("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n");
  ASSERT_TRUE(big.error());
  EXPECT_EQ(big.error()->reason, ProtocolError::kHeaderTooLarge);

  RequestReader len(1024);
  len.Feed("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n");
  ASSERT_TRUE(len.header_done());
  len.SetBodyLimit(99);
  ASSERT_TRUE(len.error());
  EXPECT_EQ(len.error()->reason, ProtocolError::kBodyTooLarge);

  RequestReader bad(1024);
  bad.Feed("GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n");
  ASSERT_TRUE(bad.error());
  EXPECT_EQ(bad.error()->reason, ProtocolError::kMalformed);
}

TEST(PrepareRequest, DecodesBodyAndDropsContentEncoding) {
  HttpRequest req;
  req.method = "POST";
  req.target = "/w?x=%41";
  req.headers.Add("Content-Encoding", "zstd");
  req.headers.Add("Content-Type", "application/x-www-form-urlencoded");
  req.body = *base::Compress(base::Codec::kZstd, "a=1&x=2");
  ASSERT_FALSE(PrepareRequest(req, 1000));
  EXPECT_EQ(req.path, "/w");
  EXPECT_EQ(req.raw_query, "x=%41");
  EXPECT_EQ(req.body, "a=1&x=2");
  EXPECT_FALSE(req.headers.Has("Content-Encoding"));
  EXPECT_EQ(req.params.GetAll("x"), (std::vector<std::string_view>{"2", "A"}));
}

TEST(PrepareRequest, LimitsIdentityBodiesAndRejectsBadTargets) {
  HttpRequest big;
  big.method = "POST";
  big.target = "/";
  big.body = std::string(11, 'x');
  auto err = PrepareRequest(big, 10);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->reason, ProtocolError::kBodyTooLarge);

  HttpRequest star;
  star.method = "OPTIONS";
  star.target = "*";
  EXPECT_TRUE(PrepareRequest(star, 10));

  HttpRequest absolute;
  absolute.method = "GET";
  absolute.target = "http://h:1/p%20q?z=1";
  ASSERT_FALSE(PrepareRequest(absolute, 10));
  EXPECT_EQ(absolute.path, "/p q");
  EXPECT_EQ(absolute.params.Get("z"), "1");
}

TEST(MessageWriter, SerializesResponsesWithServerOwnedFraming) {
  HttpResponse r = HttpResponse::Text(200, "hi");
  r.headers.Add("Content-Length", "999");           // ignored
  r.headers.Add("X-Evil", "a\r\nSet-Cookie: x=1");  // dropped
  ResponseContext ctx;
  ctx.close = true;
  ctx.now = absl::FromUnixSeconds(1700000000);
  std::string head = SerializeResponseHead(r, ctx);
  EXPECT_EQ(head,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\n"
            "Content-Length: 2\r\n"
            "Connection: close\r\n\r\n");
  HttpResponse empty;
  empty.status = 204;
  empty.body = "ignored";
  std::string h204 = SerializeResponseHead(empty, ResponseContext());
  EXPECT_EQ(h204.find("Content-Length"), std::string::npos);
  EXPECT_TRUE(empty.body.empty());
}

TEST(MessageWriter, CompressesOnlyWhenWorthIt) {
  ResponseContext ctx;
  ctx.accept_gzip = true;
  HttpResponse big = HttpResponse::Text(200, std::string(5000, 'a'));
  CompressResponse(big, ctx);
  EXPECT_EQ(big.headers.Get("Content-Encoding"), "gzip");
  HttpResponse opted_out = HttpResponse::Text(200, std::string(5000, 'a'));
  opted_out.compressible = false;
  CompressResponse(opted_out, ctx);
  EXPECT_FALSE(opted_out.headers.Has("Content-Encoding"));
  HttpResponse small = HttpResponse::Text(200, "tiny");
  CompressResponse(small, ctx);
  EXPECT_FALSE(small.headers.Has("Content-Encoding"));
}

TEST(MessageWriter, SerializesClientRequests) {
  HttpHeaders h;
  h.Add("User-Agent", "t");
  EXPECT_EQ(SerializeRequestHead("POST", "/p", "h:80", h, 0),
            "POST /p HTTP/1.1\r\nHost: h:80\r\nUser-Agent: t\r\n"
            "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(SerializeRequestHead("GET", "/", "h:80", HttpHeaders(), 0),
            "GET / HTTP/1.1\r\nHost: h:80\r\n\r\n");
}

TEST(ResponseReader, HandlesEofDelimitedAndOversizedResponses) {
  ResponseReader eof(1024, 100, false);
  eof.Feed("HTTP/1.0 200 OK\r\n\r\nbody until close");
  EXPECT_FALSE(eof.done());
  eof.FeedEof();
  ASSERT_TRUE(eof.done());
  EXPECT_EQ(eof.TakeResponse().body, "body until close");

  ResponseReader big(1024, 10, false);
  big.Feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
  EXPECT_EQ(big.status().code(), absl::StatusCode::kResourceExhausted);

  ResponseReader chunked(1024, 10, false);
  chunked.Feed(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status().code(), absl::StatusCode::kResourceExhausted);

  ResponseReader head(1024, 10, true);
  head.Feed("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n");
  ASSERT_TRUE(head.status().ok());
  EXPECT_TRUE(head.done());
}

}  // namespace
}  // namespace pantau::net::internal
