#include "pantau/outbox/nats_transport.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"
#include "nlohmann/json.hpp"

namespace pantau::outbox {
namespace {

constexpr char kMsgIdHeader[] = "Nats-Msg-Id";
constexpr char kKeyHeader[] = "Pantau-Key";
constexpr char kTypeHeader[] = "Pantau-Type";
constexpr char kCreatedHeader[] = "Pantau-Created-At";

absl::Status NatsError(natsStatus s, std::string_view what,
                       jsErrCode jerr = static_cast<jsErrCode>(0)) {
  std::string msg =
      absl::StrCat("nats: ", std::string(what), ": ", natsStatus_GetText(s));
  if (jerr != 0) absl::StrAppend(&msg, " (jetstream error ", jerr, ")");
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0') absl::StrAppend(&msg, ": ", last);
  switch (s) {
    case NATS_TIMEOUT:
      return absl::DeadlineExceededError(msg);
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_IO_ERROR:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

// Destroys the messages handed to it all at once, when it goes out of
// scope. libnats frees every natsMsg on its garbage-collector thread and
// wakes that thread when it sleeps; destroying each message as soon as it
// is done with woke it several thousand times a second in the benchmark
// (a futex wake and two context switches each, and its frees contended for
// the allocating threads' malloc arenas). A whole batch at once wakes it
// about once.
class MsgBatchDestroyer {
 public:
  MsgBatchDestroyer() = default;
  MsgBatchDestroyer(const MsgBatchDestroyer&) = delete;
  MsgBatchDestroyer& operator=(const MsgBatchDestroyer&) = delete;
  ~MsgBatchDestroyer() {
    for (natsMsg* m : msgs_) natsMsg_Destroy(m);
  }
  void Add(natsMsg* m) {
    if (m != nullptr) msgs_.push_back(m);
  }
  void Reserve(size_t n) { msgs_.reserve(n); }

 private:
  std::vector<natsMsg*> msgs_;
};

}  // namespace

// Owns a connection and its JetStream context.
class NatsConnection {
 public:
  ~NatsConnection() {
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    natsOptions_Destroy(opts);
  }
  static absl::StatusOr<std::unique_ptr<NatsConnection>> Open(
      const NatsOptions& o) {
    auto c = std::make_unique<NatsConnection>();
    natsStatus s = natsOptions_Create(&c->opts);
    if (s == NATS_OK) s = natsOptions_SetURL(c->opts, o.url.c_str());
    if (s == NATS_OK) s = natsOptions_SetName(c->opts, o.name.c_str());
    if (s == NATS_OK) {
      s = natsOptions_SetTimeout(c->opts, absl::ToInt64Milliseconds(o.timeout));
    }
    if (s == NATS_OK) s = natsOptions_SetMaxReconnect(c->opts, -1);
    if (s == NATS_OK) {
      s = natsOptions_SetReconnectWait(
          c->opts, absl::ToInt64Milliseconds(o.reconnect_wait));
    }
    if (s != NATS_OK) return NatsError(s, "options");
    s = natsConnection_Connect(&c->nc, c->opts);
    if (s != NATS_OK) return NatsError(s, absl::StrCat("connect ", o.url));
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = absl::ToInt64Milliseconds(o.timeout);
    s = natsConnection_JetStream(&c->js, c->nc, &jo);
    if (s != NATS_OK) return NatsError(s, "jetstream context");
    if (!o.stream.empty()) PANTAU_RETURN_IF_ERROR(c->EnsureStream(o));
    return c;
  }

  absl::Status EnsureStream(const NatsOptions& o) {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetStreamInfo(&si, js, o.stream.c_str(), nullptr, &jerr);
    jsStreamInfo_Destroy(si);
    if (s == NATS_OK) return absl::OkStatus();
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = o.stream.c_str();
    std::vector<const char*> subjects;
    for (const std::string& sub : o.subjects) subjects.push_back(sub.c_str());
    cfg.Subjects = subjects.data();
    cfg.SubjectsLen = static_cast<int>(subjects.size());
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = absl::ToInt64Nanoseconds(o.duplicate_window);
    si = nullptr;
    jerr = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js, &cfg, nullptr, &jerr);
    jsStreamInfo_Destroy(si);
    if (s == NATS_OK || jerr == JSStreamNameExistErr) return absl::OkStatus();
    return NatsError(s, absl::StrCat("create stream ", o.stream), jerr);
  }

  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
};

// The publishing side sends plain publishes with a reply subject of its own
// (`<inbox>.<n>`) and reads JetStream's acks from one synchronous
// subscription on `<inbox>.*`, instead of libnats' js_PublishMsgAsync. That
// one kept a hash entry and a copied reply subject per message and handed
// each ack to a callback thread; with the Nats-Msg-Id header set twice (once
// by us, once by the library) it made ~38 allocations per relayed message,
// and glibc malloc was the relay's largest cost in a profile.
struct NatsTransport::State {
  absl::Mutex publish_mu;  // one batch at a time
  std::unique_ptr<NatsConnection> conn;
  std::string inbox;
  natsSubscription* acks = nullptr;  // on `<inbox>.*`
  // Reply numbers of the current batch start here; an ack outside the
  // batch (a late one from an earlier, timed-out batch) is ignored.
  uint64_t next_reply ABSL_GUARDED_BY(publish_mu) = 0;
  ~State() { natsSubscription_Destroy(acks); }
};

namespace {

// The result of a JetStream publish ack: `{"stream":"S","seq":N}` (with
// `"duplicate":true` for a message the stream already had) is a success,
// `{"error":{...}}` a refusal; an empty body with a `Status` header is the
// server saying nobody took the publish (503: no stream on the subject).
absl::Status PublishAckStatus(natsMsg* ack) {
  std::string_view body(
      natsMsg_GetData(ack) == nullptr ? "" : natsMsg_GetData(ack),
      natsMsg_GetDataLength(ack));
  if (body.empty()) {
    const char* status = nullptr;
    if (natsMsgHeader_Get(ack, "Status", &status) != NATS_OK ||
        status == nullptr) {
      status = "none";
    }
    return absl::UnavailableError(absl::StrCat(
        "nats: publish ack: status ", status,
        std::string_view(status) == "503" ? " (no stream for the subject)"
                                          : ""));
  }
  // The common case without a JSON parser: an ack names the stream and the
  // sequence and has no error.
  if (body.find("\"error\"") == std::string_view::npos &&
      body.find("\"seq\"") != std::string_view::npos) {
    return absl::OkStatus();
  }
  nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr,
                                           /*allow_exceptions=*/false);
  std::string text = "unexpected publish ack";
  if (!j.is_discarded() && j.is_object() && j.contains("error") &&
      j["error"].is_object()) {
    const nlohmann::json& e = j["error"];
    text =
        absl::StrCat("jetstream error ",
                     e.contains("err_code") && e["err_code"].is_number_integer()
                         ? absl::StrCat(e["err_code"].get<int64_t>())
                         : "?",
                     ": ",
                     e.contains("description") && e["description"].is_string()
                         ? e["description"].get<std::string>()
                         : "");
  }
  return absl::InternalError(absl::StrCat("nats: publish ack: ", text));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NatsTransport>> NatsTransport::Connect(
    const NatsOptions& options) {
  auto state = std::make_unique<State>();
  PANTAU_ASSIGN_OR_RETURN(state->conn, NatsConnection::Open(options));
  natsInbox* inbox = nullptr;
  natsStatus s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return NatsError(s, "inbox");
  state->inbox = inbox;
  natsInbox_Destroy(inbox);
  s = natsConnection_SubscribeSync(&state->acks, state->conn->nc,
                                   absl::StrCat(state->inbox, ".*").c_str());
  if (s != NATS_OK) return NatsError(s, "subscribe to publish acks");
  // A batch's acks queue here while it is still being published; the
  // default limit (65536 messages) would drop acks of a batch that large.
  s = natsSubscription_SetPendingLimits(state->acks, -1, -1);
  if (s != NATS_OK) return NatsError(s, "publish ack limits");
  return std::unique_ptr<NatsTransport>(new NatsTransport(std::move(state)));
}

NatsTransport::NatsTransport(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

NatsTransport::~NatsTransport() = default;

std::vector<absl::Status> NatsTransport::Publish(
    const std::vector<Message>& batch, absl::Duration timeout) {
  State& st = *state_;
  absl::MutexLock publish_lock(&st.publish_mu);
  const absl::Time deadline = absl::Now() + timeout;
  const uint64_t base = st.next_reply;
  st.next_reply += batch.size();
  std::vector<absl::Status> out(batch.size());
  // 0: not sent (out[i] says why), 1: waiting for its ack, 2: acked.
  std::vector<uint8_t> state(batch.size(), 0);
  size_t waiting = 0;
  std::string reply = st.inbox + ".";
  const size_t reply_prefix = reply.size();
  MsgBatchDestroyer done;  // the batch's messages and acks
  done.Reserve(2 * batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const Message& m = batch[i];
    reply.resize(reply_prefix);
    absl::StrAppend(&reply, base + i);
    natsMsg* msg = nullptr;
    natsStatus s =
        natsMsg_Create(&msg, m.topic.c_str(), reply.c_str(), m.payload.data(),
                       static_cast<int>(m.payload.size()));
    for (const auto& [k, v] : m.headers) {
      if (s == NATS_OK) s = natsMsgHeader_Set(msg, k.c_str(), v.c_str());
    }
    std::string created = absl::StrCat(absl::ToUnixMillis(m.created_at));
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, kMsgIdHeader, m.id.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, kKeyHeader, m.key.c_str());
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, kTypeHeader, m.type.c_str());
    if (s == NATS_OK)
      s = natsMsgHeader_Set(msg, kCreatedHeader, created.c_str());
    if (s == NATS_OK) s = natsConnection_PublishMsg(st.conn->nc, msg);
    done.Add(msg);
    if (s != NATS_OK) {
      out[i] = NatsError(s, absl::StrCat("publish to ", m.topic));
    } else {
      state[i] = 1;
      ++waiting;
    }
  }
  const size_t number_at = st.inbox.size() + 1;
  // libnats' NextMsg answers a "no responders" status (503: no stream on
  // the subject) with NATS_NO_RESPONDERS and drops the message, so which
  // publish it answered is lost. Every publish gets exactly one answer,
  // though: once the 503s account for all that still wait, those are the
  // ones.
  size_t no_responders = 0;
  while (waiting > no_responders) {
    int64_t left_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (left_ms <= 0) break;
    natsMsg* ack = nullptr;
    natsStatus s = natsSubscription_NextMsg(&ack, st.acks, left_ms);
    if (s == NATS_NO_RESPONDERS) {
      ++no_responders;
      continue;
    }
    if (s != NATS_OK) break;  // timeout, or the connection is gone
    std::string_view subject = natsMsg_GetSubject(ack);
    uint64_t n = 0;
    if (subject.size() > number_at &&
        absl::SimpleAtoi(absl::string_view(subject.data() + number_at,
                                           subject.size() - number_at),
                         &n) &&
        n >= base && n - base < batch.size() && state[n - base] == 1) {
      out[n - base] = PublishAckStatus(ack);
      state[n - base] = 2;
      --waiting;
    }
    done.Add(ack);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (state[i] != 1) continue;
    if (waiting == no_responders) {
      out[i] = absl::UnavailableError(
          absl::StrCat("nats: publish to ", batch[i].topic,
                       ": no responders (status 503: no stream for the "
                       "subject)"));
    } else {
      out[i] = absl::DeadlineExceededError(absl::StrCat(
          "nats: no publish ack for ", batch[i].id, " within ",
          absl::FormatDuration(timeout),
          no_responders > 0
              ? absl::StrCat(" (", no_responders,
                             " of this batch's publishes had no responders)")
              : ""));
    }
  }
  return out;
}

// The consumer side does its own pull requests instead of calling
// libnats' natsSubscription_Fetch: in libnats 3.4.1 (Debian 12) a Fetch that
// starts with messages already queued (left by an earlier pull request, e.g.
// one buffered while the server was down and answered after the reconnect)
// lowers its batch by that count and then compares the collected count
// against the lowered batch, so it keeps appending past the `max`-sized
// array it allocated: heap corruption in the consumer after broker restarts.
// Messages are copied out and their natsMsg freed inside Fetch, and acks are
// plain publishes to the reply subject, so a Delivery never touches a
// subscription and keeps the connection alive on its own.
struct NatsSource::State {
  absl::Mutex fetch_mu;  // one Fetch at a time on the inbox subscription
  std::shared_ptr<NatsConnection> conn;
  // The library's pull subscription creates or binds the durable consumer;
  // it is never fetched from.
  natsSubscription* pull_sub = nullptr;
  // Our own inbox: every pull request's reply subject is `inbox.<id>`.
  std::string inbox;
  natsSubscription* sub = nullptr;
  std::string next_subject;  // $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>
  uint64_t fetch_id ABSL_GUARDED_BY(fetch_mu) = 0;
  ~State() {
    natsSubscription_Destroy(sub);
    natsSubscription_Destroy(pull_sub);
  }
};

namespace {

constexpr char kStatusHeader[] = "Status";
constexpr char kDescriptionHeader[] = "Description";

class NatsDelivery : public Delivery {
 public:
  NatsDelivery(std::shared_ptr<NatsConnection> conn, std::string reply,
               Message m)
      : conn_(std::move(conn)), reply_(std::move(reply)), m_(std::move(m)) {}
  const Message& message() const override { return m_; }
  absl::Status Ack() override { return Send("+ACK", "ack"); }
  absl::Status Nak(absl::Duration delay) override {
    return Send(
        absl::StrCat("-NAK {\"delay\":", absl::ToInt64Nanoseconds(delay), "}"),
        "nak");
  }

 private:
  absl::Status Send(const std::string& body, std::string_view what) {
    if (reply_.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("nats: ", std::string(what), ": no reply subject"));
    }
    natsStatus s = natsConnection_Publish(
        conn_->nc, reply_.c_str(), body.data(), static_cast<int>(body.size()));
    return s == NATS_OK ? absl::OkStatus() : NatsError(s, what);
  }

  std::shared_ptr<NatsConnection> conn_;
  std::string reply_;
  Message m_;
};

Message FromNats(natsMsg* msg) {
  Message m;
  m.topic = natsMsg_GetSubject(msg);
  const char* data = natsMsg_GetData(msg);
  if (data != nullptr) m.payload.assign(data, natsMsg_GetDataLength(msg));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char* v = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &v) != NATS_OK || v == nullptr) {
        continue;
      }
      std::string_view k(keys[i]);
      if (k == kMsgIdHeader) {
        m.id = v;
      } else if (k == kKeyHeader) {
        m.key = v;
      } else if (k == kTypeHeader) {
        m.type = v;
      } else if (k == kCreatedHeader) {
        int64_t ms;
        if (absl::SimpleAtoi(v, &ms)) m.created_at = absl::FromUnixMillis(ms);
      } else {
        m.headers[std::string(k)] = v;
      }
    }
    free(static_cast<void*>(keys));
  }
  return m;
}

// A JetStream status message (404 no messages, 408 request expired, 409
// ...) has no payload and a `Status` header; anything else is a delivery.
// Returns the status code, or nullopt for a delivery.
std::optional<std::string> StatusOf(natsMsg* msg) {
  if (natsMsg_GetDataLength(msg) > 0) return std::nullopt;
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg, kStatusHeader, &v) != NATS_OK || v == nullptr) {
    return std::nullopt;
  }
  return std::string(v);
}

std::string DescriptionOf(natsMsg* msg) {
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg, kDescriptionHeader, &v) != NATS_OK ||
      v == nullptr) {
    return "";
  }
  return v;
}

// The stream holding the durable pull consumer `source.durable` (on
// `source.subject`), trying `hint` first.
absl::StatusOr<std::string> FindConsumerStream(
    jsCtx* js, const std::string& hint, const NatsSourceOptions& source) {
  auto has_consumer = [&](const char* stream) {
    jsConsumerInfo* ci = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_GetConsumerInfo(&ci, js, stream, source.durable.c_str(),
                                      nullptr, &jerr);
    jsConsumerInfo_Destroy(ci);
    return s == NATS_OK;
  };
  if (!hint.empty() && has_consumer(hint.c_str())) return hint;
  jsOptions o;
  jsOptions_Init(&o);
  o.Stream.Info.SubjectsFilter = source.subject.c_str();
  jsStreamNamesList* names = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_StreamNames(&names, js, &o, &jerr);
  if (s != NATS_OK) return NatsError(s, "stream names", jerr);
  std::optional<std::string> found;
  for (int i = 0; i < names->Count && !found.has_value(); ++i) {
    if (has_consumer(names->List[i])) found = names->List[i];
  }
  jsStreamNamesList_Destroy(names);
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat("nats: no stream holds consumer ",
                                            source.durable, " on ",
                                            source.subject));
  }
  return *found;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NatsSource>> NatsSource::Connect(
    const NatsOptions& options, const NatsSourceOptions& source) {
  auto state = std::make_unique<State>();
  PANTAU_ASSIGN_OR_RETURN(state->conn, NatsConnection::Open(options));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.AckWait = absl::ToInt64Nanoseconds(source.ack_wait);
  so.Config.MaxAckPending = source.max_ack_pending;
  so.Config.AckPolicy = js_AckExplicit;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = js_PullSubscribe(&state->pull_sub, state->conn->js,
                                  source.subject.c_str(),
                                  source.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return NatsError(s, absl::StrCat("pull subscribe ", source.subject), jerr);
  }
  // The pull requests go to the durable's stream; libnats 3.4.1 answers
  // natsSubscription_GetConsumerInfo with "Invalid Subscription" when the
  // durable already existed, so find the stream that holds the durable.
  PANTAU_ASSIGN_OR_RETURN(
      std::string stream,
      FindConsumerStream(state->conn->js, options.stream, source));
  state->next_subject =
      absl::StrCat("$JS.API.CONSUMER.MSG.NEXT.", stream, ".", source.durable);
  natsInbox* inbox = nullptr;
  s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return NatsError(s, "inbox");
  state->inbox = inbox;
  natsInbox_Destroy(inbox);
  s = natsConnection_SubscribeSync(&state->sub, state->conn->nc,
                                   absl::StrCat(state->inbox, ".*").c_str());
  if (s != NATS_OK) return NatsError(s, "subscribe inbox");
  return std::unique_ptr<NatsSource>(new NatsSource(std::move(state)));
}

NatsSource::NatsSource(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

NatsSource::~NatsSource() = default;

// How long a fetch that already holds deliveries pauses before it takes
// what arrived meanwhile; a pause without any ends the fetch.
constexpr absl::Duration kBurstGap = absl::Milliseconds(2);

absl::StatusOr<std::vector<std::unique_ptr<Delivery>>> NatsSource::Fetch(
    int max, absl::Duration timeout) {
  std::vector<std::unique_ptr<Delivery>> out;
  if (max <= 0) return out;
  State& st = *state_;
  absl::MutexLock lock(&st.fetch_mu);
  const absl::Time deadline = absl::Now() + timeout;
  MsgBatchDestroyer done;  // every message taken off the inbox
  auto take = [&](natsMsg* msg) {
    const char* reply = natsMsg_GetReply(msg);
    out.push_back(std::make_unique<NatsDelivery>(
        st.conn, reply != nullptr ? reply : "", FromNats(msg)));
  };

  // Deliveries left by earlier requests come first, never more than `max`.
  int queued = 0;
  natsSubscription_GetPending(st.sub, &queued, nullptr);
  while (queued-- > 0 && static_cast<int>(out.size()) < max) {
    natsMsg* msg = nullptr;
    if (natsSubscription_NextMsg(&msg, st.sub, 1) != NATS_OK) break;
    if (!StatusOf(msg).has_value()) take(msg);
    done.Add(msg);
  }
  if (static_cast<int>(out.size()) >= max) return out;

  // While reconnecting, a request would wait in the client's buffer and be
  // answered after the reconnect, long after this call gave up.
  // So wait (up to the deadline) for the connection to come back first.
  while (natsConnection_Status(st.conn->nc) != NATS_CONN_STATUS_CONNECTED) {
    if (!out.empty()) return out;
    if (absl::Now() >= deadline) {
      return absl::UnavailableError("nats: fetch: not connected");
    }
    absl::SleepFor(std::min(absl::Milliseconds(10), deadline - absl::Now()));
  }

  // First ask for what is there now; when nothing is, wait for new
  // messages until shortly before the deadline (the server answers an
  // expired request with 408, which ends the wait).
  bool no_wait = true;
  std::string reply;
  auto request = [&]() -> natsStatus {
    reply = absl::StrCat(st.inbox, ".", ++st.fetch_id);
    int batch = max - static_cast<int>(out.size());
    std::string body = absl::StrCat("{\"batch\":", batch);
    if (no_wait) {
      absl::StrAppend(&body, ",\"no_wait\":true}");
    } else {
      absl::Duration left = deadline - absl::Now();
      if (left >= absl::Milliseconds(20)) left -= absl::Milliseconds(10);
      absl::StrAppend(&body, ",\"expires\":",
                      std::max<int64_t>(1, absl::ToInt64Nanoseconds(left)),
                      "}");
    }
    return natsConnection_PublishRequest(st.conn->nc, st.next_subject.c_str(),
                                         reply.c_str(), body.data(),
                                         static_cast<int>(body.size()));
  };
  natsStatus s = request();
  if (s != NATS_OK) {
    if (!out.empty()) return out;
    return NatsError(s, "fetch request");
  }
  absl::Status error;
  bool paused = false;
  while (static_cast<int>(out.size()) < max) {
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    natsMsg* msg = nullptr;
    if (out.empty()) {
      s = natsSubscription_NextMsg(
          &msg, st.sub, std::max<int64_t>(1, absl::ToInt64Milliseconds(left)));
    } else {
      // Once something arrived, hand it over as soon as the burst it came
      // in ends instead of waiting for a full batch: at a low rate,
      // waiting for `max` messages until the deadline was the whole of the
      // tail latency (p99.9 ~ the fetch timeout). Later deliveries of this
      // request are taken first by the next Fetch. The rest of the burst
      // is taken after a pause, all that arrived by then at once: waiting
      // for each delivery woke this thread once per message at a moderate
      // rate, and on this VM a wake-up costs more than handling a message.
      int queued_now = 0;
      natsSubscription_GetPending(st.sub, &queued_now, nullptr);
      if (queued_now == 0) {
        if (paused) break;  // a whole pause without a delivery
        absl::SleepFor(std::min(kBurstGap, left));
        paused = true;
        continue;
      }
      paused = false;
      s = natsSubscription_NextMsg(&msg, st.sub, 1);  // queued: no wait
    }
    if (s == NATS_TIMEOUT) break;
    if (s != NATS_OK) {
      error = NatsError(s, "fetch");
      break;
    }
    std::optional<std::string> status = StatusOf(msg);
    if (!status.has_value()) {
      take(msg);  // a delivery for any of our requests, old ones included
      done.Add(msg);
      continue;
    }
    // A status for an earlier request (or an idle heartbeat) says nothing
    // about this one.
    bool current = reply == natsMsg_GetSubject(msg);
    std::string description = DescriptionOf(msg);
    done.Add(msg);
    if (!current || *status == "100") continue;
    if (*status == "404" && no_wait && out.empty()) {
      no_wait = false;
      if (absl::Now() >= deadline) break;
      s = request();
      if (s != NATS_OK) {
        error = NatsError(s, "fetch request");
        break;
      }
      continue;
    }
    if (*status == "404" || *status == "408") break;  // nothing more now
    // 409 and others: "Server Shutdown", "Consumer Deleted", "Exceeded
    // MaxWaiting", ...
    std::string msg_text =
        absl::StrCat("nats: fetch: ", *status, " ", description);
    error = *status == "409" ? absl::UnavailableError(msg_text)
                             : absl::InternalError(msg_text);
    break;
  }
  if (out.empty() && !error.ok()) return error;
  return out;
}

}  // namespace pantau::outbox
