#include "pantau/sdk/span_context.h"

#include "gtest/gtest.h"

namespace pantau::sdk {
namespace {

TEST(TraceId, HexRoundTrip) {
  auto id = TraceId::FromHex("0AF7651916CD43DD8448EB211C80319C");
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(id->IsValid());
  EXPECT_EQ(id->ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_FALSE(TraceId::FromHex("0af7651916cd43dd8448eb211c80319").has_value());
  EXPECT_FALSE(
      TraceId::FromHex("0af7651916cd43dd8448eb211c80319g").has_value());
  EXPECT_FALSE(TraceId::FromHex(std::string(32, '0'))->IsValid());
}

TEST(SpanId, HexRoundTrip) {
  auto id = SpanId::FromHex("b7ad6b7169203331");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->ToHex(), "b7ad6b7169203331");
  EXPECT_FALSE(SpanId::FromHex("b7ad6b716920333").has_value());
  EXPECT_FALSE(SpanId::FromHex("0000000000000000")->IsValid());
}

TEST(Ids, RandomAreValidAndDistinct) {
  TraceId a = TraceId::Random(), b = TraceId::Random();
  EXPECT_TRUE(a.IsValid());
  EXPECT_NE(a, b);
  EXPECT_NE(SpanId::Random(), SpanId::Random());
}

}  // namespace
}  // namespace pantau::sdk
