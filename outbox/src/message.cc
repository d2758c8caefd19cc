#include "pantau/outbox/message.h"

#include <optional>
#include <random>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "pantau/outbox/instrumentation.h"

namespace pantau::outbox {
namespace {

// One generator per process keeps ids strictly increasing: within the same
// millisecond the 12-bit rand_a field is a counter seeded randomly.
class UuidV7Generator {
 public:
  UuidV7Generator() : rng_(std::random_device{}()) {}

  std::string Next(int64_t ms) {
    uint64_t hi, lo;
    {
      absl::MutexLock lock(&mu_);
      if (ms <= last_ms_) {
        ms = last_ms_;
        if (++counter_ > 0xfff) {  // counter spent: borrow the next ms
          ms = ++last_ms_;
          counter_ = rng_() & 0x3ff;
        }
      } else {
        last_ms_ = ms;
        counter_ = rng_() & 0x3ff;  // leaves room to count up
      }
      hi = (static_cast<uint64_t>(ms) << 16) | 0x7000 | counter_;
      lo = (rng_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(36, '-');
    int pos = 0;
    auto put = [&](uint64_t v, int nibbles) {
      for (int i = nibbles - 1; i >= 0; --i) {
        if (pos == 8 || pos == 13 || pos == 18 || pos == 23) ++pos;
        out[pos++] = kHex[(v >> (i * 4)) & 0xf];
      }
    };
    put(hi, 16);
    put(lo, 16);
    return out;
  }

 private:
  absl::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int64_t last_ms_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t counter_ ABSL_GUARDED_BY(mu_) = 0;
};

UuidV7Generator& Generator() {
  static auto* gen = new UuidV7Generator();
  return *gen;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string NewMessageId() { return NewMessageId(absl::Now()); }

std::string NewMessageId(absl::Time now) {
  return Generator().Next(absl::ToUnixMillis(now));
}

bool IsValidUuid(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (id[i] != '-') return false;
    } else if (HexValue(id[i]) < 0) {
      return false;
    }
  }
  return true;
}

absl::StatusOr<absl::Time> UuidV7Time(std::string_view id) {
  if (!IsValidUuid(id) || id[14] != '7') {
    return absl::InvalidArgumentError(
        absl::StrCat("not a UUIDv7: \"", std::string(id.substr(0, 64)), "\""));
  }
  int64_t ms = 0;
  for (size_t i = 0; i < 13; ++i) {
    if (id[i] == '-') continue;
    ms = ms * 16 + HexValue(id[i]);
  }
  return absl::FromUnixMillis(ms);
}

// Headers are written and read once per message on the relay's path (a
// traced message carries at least `traceparent`), and nlohmann's object
// build, dump and parse cost the relay ~6 us per message in the benchmark:
// a third of its own CPU. Nearly every header is plain ASCII, so those
// are written and read here directly, in exactly the bytes nlohmann
// writes; anything else (an escape, a control character, non-ASCII, white
// space, a non-string) goes through nlohmann as before.
namespace {

// A byte that stands for itself inside a JSON string.
bool IsPlainJsonChar(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

bool IsPlain(std::string_view s) {
  for (char c : s) {
    if (!IsPlainJsonChar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// `{"k":"v",...}` of plain strings only; nullopt for anything else, which
// the general parser then decides on.
std::optional<std::map<std::string, std::string>> DecodePlainHeaders(
    std::string_view json) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  auto string = [&](std::string_view* s) {
    if (i >= json.size() || json[i] != '"') return false;
    size_t start = ++i;
    while (i < json.size() && IsPlainJsonChar(json[i])) ++i;
    if (i >= json.size() || json[i] != '"') return false;
    *s = json.substr(start, i - start);
    ++i;
    return true;
  };
  if (json.size() < 2 || json[0] != '{') return std::nullopt;
  i = 1;
  if (json[i] == '}')
    return i + 1 == json.size() ? std::optional(out) : std::nullopt;
  while (true) {
    std::string_view k, v;
    if (!string(&k) || i >= json.size() || json[i++] != ':' || !string(&v)) {
      return std::nullopt;
    }
    out.insert_or_assign(std::string(k), std::string(v));  // the last wins
    if (i >= json.size()) return std::nullopt;
    char c = json[i++];
    if (c == '}') return i == json.size() ? std::optional(out) : std::nullopt;
    if (c != ',') return std::nullopt;
  }
}

}  // namespace

std::string EncodeHeaders(const std::map<std::string, std::string>& headers) {
  if (headers.empty()) return "{}";
  size_t size = 2;
  bool plain = true;
  for (const auto& [k, v] : headers) {
    size += k.size() + v.size() + 6;
    plain = plain && IsPlain(k) && IsPlain(v);
  }
  if (plain) {
    std::string out;
    out.reserve(size);
    out += '{';
    for (const auto& [k, v] : headers) {
      if (out.size() > 1) out += ',';
      absl::StrAppend(&out, "\"", k, "\":\"", v, "\"");
    }
    out += '}';
    return out;
  }
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : headers) j[k] = v;
  // Invalid UTF-8 is replaced rather than thrown on: dump never throws then.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<std::map<std::string, std::string>> DecodeHeaders(
    std::string_view json) {
  // "{}" is what EncodeHeaders writes for no headers.
  if (json.empty() || json == "{}") return std::map<std::string, std::string>();
  if (std::optional<std::map<std::string, std::string>> plain =
          DecodePlainHeaders(json)) {
    return *std::move(plain);
  }
  return internal::DecodeHeadersJson(json);
}

namespace internal {

absl::StatusOr<std::map<std::string, std::string>> DecodeHeadersJson(
    std::string_view json) {
  std::map<std::string, std::string> out;
  if (json.empty()) return out;
  nlohmann::json j = nlohmann::json::parse(json.begin(), json.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::DataLossError("outbox headers are not a JSON object");
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_string()) {
      return absl::DataLossError(
          absl::StrCat("outbox header \"", it.key(), "\" is not a string"));
    }
    out[it.key()] = it.value().get<std::string>();
  }
  return out;
}

}  // namespace internal

absl::Status PrepareForEnqueue(Message& m, absl::Time now) {
  if (m.topic.empty()) {
    return absl::InvalidArgumentError("outbox message needs a topic");
  }
  if (m.id.empty()) {
    m.id = NewMessageId(now);
  } else if (!IsValidUuid(m.id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "outbox message id is not a UUID: \"", m.id.substr(0, 64), "\""));
  }
  if (m.created_at == absl::InfinitePast()) m.created_at = now;
  if (m.next_attempt_at == absl::InfinitePast()) m.next_attempt_at = now;
  if (!m.headers.contains(kTraceparentHeader)) {
    GetInstrumentation()->InjectContext(m);
  }
  return absl::OkStatus();
}

}  // namespace pantau::outbox
