#include "pantau/outbox/message.h"

#include <set>

#include "gtest/gtest.h"
#include "pantau/outbox/instrumentation.h"

namespace pantau::outbox {
namespace {

TEST(MessageId, IsUuidV7WithItsTimestamp) {
  absl::Time t = absl::FromUnixMillis(1700000000123);
  std::string id = NewMessageId(t);
  ASSERT_TRUE(IsValidUuid(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b')
      << id;
  auto back = UuidV7Time(id);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
}

TEST(MessageId, StrictlyIncreasingWithinOneMillisecond) {
  absl::Time t = absl::FromUnixMillis(1800000000000);
  std::string prev = NewMessageId(t);
  std::set<std::string> seen{prev};
  for (int i = 0; i < 10000; ++i) {
    std::string id = NewMessageId(t);
    ASSERT_LT(prev, id);
    ASSERT_TRUE(seen.insert(id).second);
    prev = id;
  }
}

TEST(MessageId, RejectsMalformedIds) {
  EXPECT_FALSE(IsValidUuid(""));
  EXPECT_FALSE(IsValidUuid("0190b8e0-0000-7000-8000-00000000000"));
  EXPECT_FALSE(IsValidUuid("0190b8e0x0000-7000-8000-000000000000"));
  EXPECT_FALSE(IsValidUuid("0190b8e0-0000-7000-8000-00000000000g"));
  EXPECT_FALSE(UuidV7Time("0190b8e0-0000-4000-8000-000000000000").ok());
}

TEST(Headers, RoundTripAndRejectBadJson) {
  std::map<std::string, std::string> h{
      {"traceparent",
       "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
      {"quote\"d", "line\nbreak"}};
  auto back = DecodeHeaders(EncodeHeaders(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  EXPECT_TRUE(DecodeHeaders("").ok());
  EXPECT_FALSE(DecodeHeaders("[1]").ok());
  EXPECT_FALSE(DecodeHeaders("{\"a\":1}").ok());
  EXPECT_FALSE(DecodeHeaders("{\"a\":").ok());
}

class InjectingInstrumentation : public Instrumentation {
 public:
  void InjectContext(Message& m) override {
    m.headers[kTraceparentHeader] = "00-aa-bb-01";
  }
};

TEST(PrepareForEnqueue, FillsIdTimesAndTraceContext) {
  InjectingInstrumentation inst;
  SetInstrumentation(&inst);
  Message m;
  m.topic = "orders";
  absl::Time now = absl::FromUnixMillis(1700000000000);
  ASSERT_TRUE(PrepareForEnqueue(m, now).ok());
  SetInstrumentation(nullptr);
  EXPECT_TRUE(IsValidUuid(m.id));
  EXPECT_EQ(m.created_at, now);
  EXPECT_EQ(m.next_attempt_at, now);
  EXPECT_EQ(m.headers[kTraceparentHeader], "00-aa-bb-01");
}

TEST(PrepareForEnqueue, KeepsCallerTraceparentAndRejectsBadInput) {
  InjectingInstrumentation inst;
  SetInstrumentation(&inst);
  Message m;
  m.topic = "orders";
  m.headers[kTraceparentHeader] = "mine";
  ASSERT_TRUE(PrepareForEnqueue(m, absl::Now()).ok());
  SetInstrumentation(nullptr);
  EXPECT_EQ(m.headers[kTraceparentHeader], "mine");

  Message no_topic;
  EXPECT_EQ(PrepareForEnqueue(no_topic, absl::Now()).code(),
            absl::StatusCode::kInvalidArgument);
  Message bad_id;
  bad_id.topic = "t";
  bad_id.id = "not-a-uuid";
  EXPECT_EQ(PrepareForEnqueue(bad_id, absl::Now()).code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pantau::outbox
