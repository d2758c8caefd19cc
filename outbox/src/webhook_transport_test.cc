#include "pantau/outbox/webhook_transport.h"

#include "absl/strings/ascii.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace pantau::outbox {
namespace {

class FakePoster : public HttpPoster {
 public:
  absl::StatusOr<int> Post(
      const std::string& url,
      const std::vector<std::pair<std::string, std::string>>& headers,
      const std::string& body, absl::Duration timeout) override {
    absl::MutexLock lock(&mu);
    urls.push_back(url);
    last_headers = headers;
    last_body = body;
    if (body == "down") return absl::DeadlineExceededError("timeout");
    if (body == "busy") return 503;
    if (body == "bad") return 400;
    return 204;
  }
  absl::Mutex mu;
  std::vector<std::string> urls;
  std::vector<std::pair<std::string, std::string>> last_headers;
  std::string last_body;
};

Message Msg(std::string payload) {
  Message m;
  m.id = NewMessageId();
  m.topic = "orders";
  m.key = "k";
  m.type = "order.created";
  m.payload = std::move(payload);
  m.created_at = absl::FromUnixMillis(1700000000123);
  m.headers["traceparent"] =
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  m.headers["content-type"] = "application/json";
  return m;
}

TEST(WebhookTransport, MapsHttpStatusesToRetryOrPermanentFailure) {
  FakePoster poster;
  WebhookTransport t({.base_url = "http://hooks.local/in"}, &poster);
  auto r = t.Publish({Msg("ok"), Msg("busy"), Msg("bad"), Msg("down")},
                     absl::Seconds(1));
  ASSERT_EQ(r.size(), 4u);
  EXPECT_TRUE(r[0].ok());
  EXPECT_EQ(r[1].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r[2].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r[3].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(poster.urls[0], "http://hooks.local/in/orders");
  EXPECT_EQ(WebhookTransport::StatusFromHttp(429).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(WebhookTransport::StatusFromHttp(408).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(WebhookTransport::StatusFromHttp(200).ok());
}

TEST(WebhookTransport, ReceiverRebuildsTheSameMessage) {
  FakePoster poster;
  WebhookTransport t({.url_for_topic =
                          [](const std::string& topic) {
                            return "http://x/" + topic + "/hook";
                          }},
                     &poster);
  Message m = Msg("{\"order\":1}");
  ASSERT_TRUE(t.Publish({m}, absl::Seconds(1))[0].ok());
  EXPECT_EQ(poster.urls[0], "http://x/orders/hook");
  // Header names may arrive in any case.
  auto headers = poster.last_headers;
  for (auto& [k, v] : headers) k = absl::AsciiStrToLower(k);
  auto got = DecodeWebhook(headers, poster.last_body);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->id, m.id);
  EXPECT_EQ(got->topic, m.topic);
  EXPECT_EQ(got->key, m.key);
  EXPECT_EQ(got->type, m.type);
  EXPECT_EQ(got->payload, m.payload);
  EXPECT_EQ(got->created_at, m.created_at);
  EXPECT_EQ(got->headers, m.headers);
}

TEST(DecodeWebhook, RejectsRequestsWithoutIdOrTopic) {
  EXPECT_FALSE(DecodeWebhook({{"Pantau-Topic", "t"}}, "").ok());
  EXPECT_FALSE(
      DecodeWebhook({{"Pantau-Topic", "t"}, {"Pantau-Message-Id", "nope"}}, "")
          .ok());
  EXPECT_FALSE(DecodeWebhook({{"Pantau-Message-Id", NewMessageId()}}, "").ok());
  EXPECT_FALSE(DecodeWebhook({{"Pantau-Message-Id", NewMessageId()},
                              {"Pantau-Topic", "t"},
                              {"Pantau-Created-At", "yesterday"}},
                             "")
                   .ok());
}

}  // namespace
}  // namespace pantau::outbox
