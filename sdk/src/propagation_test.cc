#include "pantau/sdk/propagation.h"

#include "gtest/gtest.h"

namespace pantau::sdk {
namespace {

constexpr char kTrace[] = "12345678901234567890123456789012";

// Valid examples from the W3C Trace Context specification and its test
// suite (test/test.py).
TEST(Traceparent, W3cValidExamples) {
  for (std::string_view v : {
           "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
           "00-12345678901234567890123456789012-1234567890123456-00",
           // Optional whitespace around the value.
           " 00-12345678901234567890123456789012-1234567890123456-01",
           "\t00-12345678901234567890123456789012-1234567890123456-01",
           "00-12345678901234567890123456789012-1234567890123456-01 ",
           "00-12345678901234567890123456789012-1234567890123456-01\t",
           "\t 00-12345678901234567890123456789012-1234567890123456-01 \t",
           // A future version is read as version 00, extra fields ignored.
           "cc-12345678901234567890123456789012-1234567890123456-01",
           "cc-12345678901234567890123456789012-1234567890123456-01-what-"
           "the-future-will-be-like",
       }) {
    auto ctx = ParseTraceparent(v);
    ASSERT_TRUE(ctx.has_value()) << "'" << v << "'";
    EXPECT_TRUE(ctx->is_remote);
  }
  auto ctx = ParseTraceparent(
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ(ctx->trace_id.ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(ctx->span_id.ToHex(), "b7ad6b7169203331");
  EXPECT_TRUE(ctx->IsSampled());
  EXPECT_FALSE(ParseTraceparent(
                   "00-12345678901234567890123456789012-1234567890123456-00")
                   ->IsSampled());
}

TEST(Traceparent, W3cInvalidExamples) {
  for (std::string_view v : {
           "",
           "00-12345678901234567890123456789012-1234567890123456-01.",
           "00-12345678901234567890123456789012-1234567890123456-01-what-the-"
           "future-will-be-like",
           "cc-12345678901234567890123456789012-1234567890123456-01.what-the-"
           "future-will-be-like",
           "ff-12345678901234567890123456789012-1234567890123456-01",
           ".0-12345678901234567890123456789012-1234567890123456-01",
           "0.-12345678901234567890123456789012-1234567890123456-01",
           "000-12345678901234567890123456789012-1234567890123456-01",
           "0000-12345678901234567890123456789012-1234567890123456-01",
           "0-12345678901234567890123456789012-1234567890123456-01",
           "00-00000000000000000000000000000000-1234567890123456-01",
           "00-.2345678901234567890123456789012-1234567890123456-01",
           "00-1234567890123456789012345678901.-1234567890123456-01",
           "00-123456789012345678901234567890123-1234567890123456-01",
           "00-1234567890123456789012345678901-1234567890123456-01",
           "00-12345678901234567890123456789012-0000000000000000-01",
           "00-12345678901234567890123456789012-.234567890123456-01",
           "00-12345678901234567890123456789012-123456789012345.-01",
           "00-12345678901234567890123456789012-12345678901234567-01",
           "00-12345678901234567890123456789012-123456789012345-01",
           "00-12345678901234567890123456789012-1234567890123456-.0",
           "00-12345678901234567890123456789012-1234567890123456-0.",
           "00-12345678901234567890123456789012-1234567890123456-001",
           "00-12345678901234567890123456789012-1234567890123456-1",
           // Uppercase hex is not allowed.
           "00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01",
           "00_12345678901234567890123456789012-1234567890123456-01",
       }) {
    EXPECT_FALSE(ParseTraceparent(v).has_value()) << "'" << v << "'";
  }
}

TEST(Traceparent, FormatRoundTrips) {
  SpanContext c;
  c.trace_id = *TraceId::FromHex("0af7651916cd43dd8448eb211c80319c");
  c.span_id = *SpanId::FromHex("b7ad6b7169203331");
  c.trace_flags = kTraceFlagSampled;
  EXPECT_EQ(FormatTraceparent(c),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  c.trace_flags = 0;
  EXPECT_EQ(FormatTraceparent(c).substr(53), "00");
}

TEST(Extract, HeaderNamesAreCaseInsensitive) {
  PairCarrier c(
      {{"TrAcEpArEnT", std::string("00-") + kTrace + "-1234567890123456-01"},
       {"TRACESTATE", "foo=1"}});
  auto ctx = ExtractTraceContext(c);
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ctx->trace_id.ToHex(), kTrace);
  EXPECT_EQ(ctx->trace_state, "foo=1");
}

TEST(Extract, RepeatedTraceparentIsIgnored) {
  PairCarrier c(
      {{"traceparent",
        "00-12345678901234567890123456789011-1234567890123456-01"},
       {"traceparent", std::string("00-") + kTrace + "-1234567890123456-01"}});
  EXPECT_FALSE(ExtractTraceContext(c).has_value());
}

TEST(Extract, WrongHeaderNamesAreIgnored) {
  PairCarrier c(
      {{"trace-parent", std::string("00-") + kTrace + "-1234567890123456-01"}});
  EXPECT_FALSE(ExtractTraceContext(c).has_value());
}

TEST(Extract, TracestateWithoutTraceparentIsDropped) {
  PairCarrier c({{"tracestate", "foo=1"}});
  EXPECT_FALSE(ExtractTraceContext(c).has_value());
}

TEST(Tracestate, CombinesRepeatedHeadersInOrder) {
  auto s = ParseTracestate({"foo=1,bar=2", "rojo=1,congo=2", "", "baz=3"});
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(*s, "foo=1,bar=2,rojo=1,congo=2,baz=3");
}

TEST(Tracestate, OptionalWhitespace) {
  EXPECT_EQ(*ParseTracestate({"foo=1 \t , \t bar=2, \t baz=3"}),
            "foo=1,bar=2,baz=3");
  EXPECT_EQ(*ParseTracestate({"\t foo=1 \t"}), "foo=1");
}

TEST(Tracestate, AllAllowedCharacters) {
  std::string key;
  for (char c = 'a'; c <= 'z'; ++c) key += c;
  key += "0123456789_-*/";
  std::string value;
  for (int c = 0x20; c <= 0x7e; ++c) {
    if (c != ',' && c != '=') value += static_cast<char>(c);
  }
  EXPECT_TRUE(ParseTracestate({key + "=" + value}).has_value());
  EXPECT_TRUE(ParseTracestate({key + "@a-z0-9_-*/=" + value}).has_value());
}

TEST(Tracestate, InvalidIsDiscardedWhole) {
  for (std::string_view v :
       {"foo=1,foo=1", "foo=1,foo=2", "foo =1", "FOO=1", "foo.bar=1",
        "foo@=1,bar=2", "@foo=1,bar=2", "foo@@bar=1,bar=2",
        "foo@bar@baz=1,bar=2", "foo=", "foo=a\x01b", "novalue"}) {
    EXPECT_FALSE(ParseTracestate({v}).has_value()) << v;
  }
  EXPECT_FALSE(ParseTracestate({"foo=1", "foo=2"}).has_value());
}

TEST(Tracestate, MemberLimit) {
  std::string s;
  for (int i = 0; i < 32; ++i) s += (i ? ",k" : "k") + std::to_string(i) + "=v";
  EXPECT_TRUE(ParseTracestate({s}).has_value());
  EXPECT_FALSE(ParseTracestate({s + ",k32=v"}).has_value());
}

TEST(Extract, InvalidTracestateKeepsTraceparent) {
  PairCarrier c(
      {{"traceparent", std::string("00-") + kTrace + "-1234567890123456-00"},
       {"tracestate", "foo=1,foo=2"}});
  auto ctx = ExtractTraceContext(c);
  ASSERT_TRUE(ctx.has_value());
  EXPECT_EQ(ctx->trace_state, "");
}

TEST(Inject, WritesBothHeaders) {
  SpanContext ctx;
  ctx.trace_id = *TraceId::FromHex(kTrace);
  ctx.span_id = *SpanId::FromHex("1234567890123456");
  ctx.trace_flags = 1;
  ctx.trace_state = "congo=t61rcWkgMzE";
  PairCarrier c({{"Traceparent", "stale"}});
  InjectTraceContext(ctx, c);
  ASSERT_EQ(c.GetAll("traceparent").size(), 1u);
  EXPECT_EQ(c.GetAll("traceparent")[0],
            std::string("00-") + kTrace + "-1234567890123456-01");
  EXPECT_EQ(c.GetAll("tracestate")[0], "congo=t61rcWkgMzE");
  PairCarrier empty;
  InjectTraceContext(SpanContext(), empty);
  EXPECT_TRUE(empty.pairs().empty());
}

TEST(Baggage, ParseAndFormat) {
  Baggage b = Baggage::Parse(
      {"userId=alice, serverNode = DF%2028 ,isProduction=false;prop=1",
       "bad key=1,ok=%E2%9C%93,broken=%zz"});
  EXPECT_EQ(b.Get("userId"), "alice");
  EXPECT_EQ(b.Get("serverNode"), "DF 28");
  EXPECT_EQ(b.Get("isProduction"), "false");
  EXPECT_EQ(b.entries()[2].metadata, "prop=1");
  EXPECT_EQ(b.Get("ok"), "\xE2\x9C\x93");
  EXPECT_FALSE(b.Get("bad key").has_value());
  EXPECT_FALSE(b.Get("broken").has_value());
  EXPECT_EQ(b.ToHeader(),
            "userId=alice,serverNode=DF%2028,isProduction=false;prop=1,"
            "ok=%E2%9C%93");
  Baggage round = Baggage::Parse({b.ToHeader()});
  EXPECT_EQ(round.entries().size(), 4u);
  EXPECT_EQ(round.Get("ok"), "\xE2\x9C\x93");
}

TEST(Baggage, SetRemoveAndInject) {
  Baggage b;
  EXPECT_TRUE(b.Set("tenant", "a,b;c"));
  EXPECT_FALSE(b.Set("no spaces", "x"));
  b.Set("tenant", "t1");
  b.Set("x", "1");
  b.Remove("x");
  PairCarrier c;
  InjectBaggage(b, c);
  EXPECT_EQ(c.GetAll("baggage")[0], "tenant=t1");
  EXPECT_EQ(ExtractBaggage(c).Get("tenant"), "t1");
  PairCarrier none;
  InjectBaggage(Baggage(), none);
  EXPECT_TRUE(none.pairs().empty());
}

TEST(Baggage, Limits) {
  std::string many;
  for (int i = 0; i < 300; ++i) many += "k" + std::to_string(i) + "=v,";
  EXPECT_EQ(Baggage::Parse({many}).entries().size(), Baggage::kMaxEntries);
  Baggage big;
  big.Set("a", std::string(9000, 'x'));
  big.Set("b", "small");
  EXPECT_EQ(big.ToHeader(), "b=small");
}

}  // namespace
}  // namespace pantau::sdk
