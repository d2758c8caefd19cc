#include "pantau/outbox/message.h"

#include <set>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
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

// The fast path for plain headers must write what nlohmann writes and read
// what it reads, or a row written by one version would read differently
// in another.
TEST(Headers, PlainFastPathAgreesWithTheJsonParser) {
  const std::map<std::string, std::string> cases[] = {
      {{"traceparent",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}},
      {{"a", ""}, {"b", "x y"}, {"tracestate", "k1=v1,k2=v2"}},
      {{"", "empty key"}},
      {{"quote\"d", "v"}},                 // escaped: the general path
      {{"k", "tab\there"}},                // a control character
      {{"k", "caf\xc3\xa9"}},              // UTF-8
      {{"k", "back\\slash"}, {"z", "1"}},  // mixed
  };
  for (const auto& h : cases) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : h) j[k] = v;
    std::string want = j.dump(-1, ' ', false);
    EXPECT_EQ(EncodeHeaders(h), want);
    auto back = DecodeHeaders(want);
    ASSERT_TRUE(back.ok()) << want;
    EXPECT_EQ(*back, h);
  }
  for (std::string_view json : {
           R"({"a":"1","a":"2"})",  // the last of a repeated key wins
           R"({"a":"1",})",         // trailing comma
           R"({"a":"1"} )",         // trailing space
           R"( {"a":"1"})",         // leading space
           R"({"a" : "1"})",        // spaces inside
           R"({"a":"1"}x)",         // junk after
           R"({"a":"1")",           // unterminated
           R"({"a":1})",            // not a string
           R"({"a":"\u0041"})",     // an escape
           R"({"a":null})",         // null
           R"({a:"1"})",            // unquoted key
           R"({"a":"1""b":"2"})",   // missing comma
           R"({})",                 // empty
           R"({)",                  // truncated
           R"(["a"])",              // not an object
       }) {
    auto fast = DecodeHeaders(json);
    auto slow = internal::DecodeHeadersJson(json);
    ASSERT_EQ(fast.ok(), slow.ok()) << json;
    if (fast.ok()) {
      EXPECT_EQ(*fast, *slow) << json;
    }
  }
  EXPECT_EQ((*DecodeHeaders(R"({"a":"1","a":"2"})")).at("a"), "2");
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
