#include "net/url.h"

#include "gtest/gtest.h"
#include "net/http_headers.h"

namespace pantau::net {
namespace {

TEST(Url, PercentDecodes) {
  EXPECT_EQ(*PercentDecode("a%20b+c", true), "a b c");
  EXPECT_EQ(*PercentDecode("a%20b+c", false), "a b+c");
  EXPECT_EQ(*PercentDecode("%7B%7d", false), "{}");
  EXPECT_FALSE(PercentDecode("%", false).ok());
  EXPECT_FALSE(PercentDecode("%4", false).ok());
  EXPECT_FALSE(PercentDecode("%zz", false).ok());
}

TEST(Url, ParsesRepeatedQueryParamsInOrder) {
  auto q =
      ParseQueryString("match[]=up&match%5B%5D=%7Bjob%3D%22x%22%7D&&flag&a=1");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 4u);
  EXPECT_EQ((*q)[0], (std::pair<std::string, std::string>{"match[]", "up"}));
  EXPECT_EQ((*q)[1].second, "{job=\"x\"}");
  EXPECT_EQ((*q)[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_FALSE(ParseQueryString("a=%G1").ok());
}

TEST(Url, EncodesQueryRoundTrip) {
  std::vector<std::pair<std::string, std::string>> p = {
      {"query", "sum(rate(x[5m])) by (job)"}, {"a b", "c&d=e"}};
  auto back = ParseQueryString(EncodeQueryString(p));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, p);
}

TEST(Url, ParsesListenAddresses) {
  auto a = ParseHostPort(":9090");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "");
  EXPECT_EQ(a->port, 9090);
  auto b = ParseHostPort("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(*&ParseHostPort("127.0.0.1:80")->host, "127.0.0.1");
  EXPECT_FALSE(ParseHostPort("9090").ok());
  EXPECT_FALSE(ParseHostPort("host:99999").ok());
  EXPECT_FALSE(ParseHostPort("host:").ok());
  EXPECT_FALSE(ParseHostPort("::1:80").ok());
}

TEST(Url, ParsesHttpUrls) {
  auto u = ParseUrl("http://example.com:8080/metrics?x=1#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/metrics?x=1");
  EXPECT_EQ(u->HostHeader(), "example.com:8080");
  auto v = ParseUrl("HTTP://[::1]");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "::1");
  EXPECT_EQ(v->port, 80);
  EXPECT_EQ(v->target, "/");
  EXPECT_EQ(v->HostHeader(), "[::1]");
  EXPECT_EQ(ParseUrl("http://h?x=1")->target, "/?x=1");
}

TEST(Url, RejectsUnsupportedUrls) {
  EXPECT_EQ(ParseUrl("https://example.com/").status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(ParseUrl("ftp://example.com/").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseUrl("example.com/metrics").ok());
  EXPECT_FALSE(ParseUrl("http:///x").ok());
  EXPECT_FALSE(ParseUrl("http://user:pw@h/").ok());
  EXPECT_FALSE(ParseUrl("http://h:70000/").ok());
}

TEST(HttpHeaders, CaseInsensitiveMultiValued) {
  HttpHeaders h;
  h.Add("Content-Type", "text/plain");
  h.Add("X-Multi", "1");
  h.Add("x-multi", "2");
  EXPECT_EQ(h.Get("content-type"), "text/plain");
  EXPECT_EQ(h.GetAll("X-MULTI").size(), 2u);
  EXPECT_EQ(h.Get("missing", "dflt"), "dflt");
  h.Set("X-Multi", "3");
  EXPECT_EQ(h.GetAll("x-multi"), std::vector<std::string_view>{"3"});
  EXPECT_EQ(h.Remove("CONTENT-TYPE"), 1u);
  EXPECT_FALSE(h.Has("Content-Type"));
}

TEST(HttpHeaders, TokenListsHonourZeroQuality) {
  EXPECT_TRUE(HeaderListHasToken("deflate, GZIP;q=0.5", "gzip"));
  EXPECT_FALSE(HeaderListHasToken("gzip;q=0, br", "gzip"));
  EXPECT_FALSE(HeaderListHasToken("x-gzip", "gzip"));
  EXPECT_TRUE(HeaderListHasToken("keep-alive, Upgrade", "upgrade"));
}

}  // namespace
}  // namespace pantau::net
