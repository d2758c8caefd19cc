#include "pantau/outbox/webhook_transport.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pantau::outbox {
namespace {

constexpr char kIdHeader[] = "Pantau-Message-Id";
constexpr char kTopicHeader[] = "Pantau-Topic";
constexpr char kKeyHeader[] = "Pantau-Key";
constexpr char kTypeHeader[] = "Pantau-Type";
constexpr char kCreatedHeader[] = "Pantau-Created-At";
constexpr char kIdempotencyHeader[] = "Idempotency-Key";

}  // namespace

WebhookTransport::WebhookTransport(WebhookOptions options, HttpPoster* poster)
    : options_(std::move(options)), poster_(poster) {
  options_.concurrency = std::max(1, options_.concurrency);
}

std::vector<std::pair<std::string, std::string>>
WebhookTransport::RequestHeaders(const Message& m) {
  std::vector<std::pair<std::string, std::string>> h;
  auto ct = m.headers.find("content-type");
  h.emplace_back("Content-Type", ct != m.headers.end()
                                     ? ct->second
                                     : "application/octet-stream");
  h.emplace_back(kIdempotencyHeader, m.id);
  h.emplace_back(kIdHeader, m.id);
  h.emplace_back(kTopicHeader, m.topic);
  h.emplace_back(kKeyHeader, m.key);
  h.emplace_back(kTypeHeader, m.type);
  h.emplace_back(kCreatedHeader,
                 absl::StrCat(absl::ToUnixMillis(m.created_at)));
  for (const auto& [k, v] : m.headers) {
    if (k != "content-type") h.emplace_back(k, v);
  }
  return h;
}

absl::Status WebhookTransport::StatusFromHttp(int code) {
  if (code >= 200 && code < 300) return absl::OkStatus();
  std::string msg = absl::StrCat("webhook answered HTTP ", code);
  if (code == 408 || code == 429 || code >= 500) {
    return absl::UnavailableError(msg);
  }
  return absl::InvalidArgumentError(msg);
}

std::vector<absl::Status> WebhookTransport::Publish(
    const std::vector<Message>& batch, absl::Duration timeout) {
  std::vector<absl::Status> out(batch.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < batch.size(); i = next++) {
      const Message& m = batch[i];
      std::string url = options_.url_for_topic
                            ? options_.url_for_topic(m.topic)
                            : absl::StrCat(options_.base_url, "/", m.topic);
      absl::StatusOr<int> code =
          poster_->Post(url, RequestHeaders(m), m.payload, timeout);
      out[i] = code.ok() ? StatusFromHttp(*code)
                         : absl::UnavailableError(absl::StrCat(
                               "webhook ", url, ": ", code.status().message()));
    }
  };
  size_t threads = std::min<size_t>(options_.concurrency, batch.size());
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return out;
}

absl::StatusOr<Message> DecodeWebhook(
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::string body) {
  Message m;
  m.payload = std::move(body);
  bool have_topic = false;
  for (const auto& [name, value] : headers) {
    std::string k = absl::AsciiStrToLower(name);
    if (k == "pantau-message-id") {
      m.id = value;
    } else if (k == "pantau-topic") {
      m.topic = value;
      have_topic = true;
    } else if (k == "pantau-key") {
      m.key = value;
    } else if (k == "pantau-type") {
      m.type = value;
    } else if (k == "pantau-created-at") {
      int64_t ms;
      if (!absl::SimpleAtoi(value, &ms)) {
        return absl::InvalidArgumentError("Pantau-Created-At is not a number");
      }
      m.created_at = absl::FromUnixMillis(ms);
    } else if (k == "idempotency-key" || k == "content-length" || k == "host" ||
               k == "connection" || k == "user-agent") {
      continue;
    } else {
      m.headers[k] = value;
    }
  }
  if (!IsValidUuid(m.id)) {
    return absl::InvalidArgumentError(
        "webhook request lacks a valid Pantau-Message-Id");
  }
  if (!have_topic) {
    return absl::InvalidArgumentError("webhook request lacks Pantau-Topic");
  }
  return m;
}

}  // namespace pantau::outbox
