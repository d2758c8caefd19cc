#include "pantau/outbox/nats_transport.h"

#include <nats/nats.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "base/status_macros.h"

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
      const NatsOptions& o, jsPubAckHandler ack, void* closure) {
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
    jo.PublishAsync.AckHandler = ack;
    jo.PublishAsync.AckHandlerClosure = closure;
    jo.PublishAsync.MaxPending = 4096;
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

struct NatsTransport::State {
  absl::Mutex publish_mu;  // one batch at a time
  absl::Mutex mu;
  // Results of the current batch by message id, filled by the ack handler.
  absl::flat_hash_map<std::string, absl::Status> acks ABSL_GUARDED_BY(mu);
  std::unique_ptr<NatsConnection> conn;
};

namespace {

// Runs on the connection's thread for every publish ack or failure.
void OnPublishAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae,
                  void* closure) {
  auto* state = static_cast<NatsTransport::State*>(closure);
  const char* id = nullptr;
  if (natsMsgHeader_Get(msg, kMsgIdHeader, &id) == NATS_OK && id != nullptr) {
    absl::Status s;
    if (pae != nullptr) {
      s = NatsError(pae->Err, "publish ack", pae->ErrCode);
      if (pae->ErrText != nullptr) {
        s = absl::Status(s.code(),
                         absl::StrCat(s.message(), ": ", pae->ErrText));
      }
    }
    absl::MutexLock lock(&state->mu);
    state->acks[id] = std::move(s);
  }
  natsMsg_Destroy(msg);
}

}  // namespace

absl::StatusOr<std::unique_ptr<NatsTransport>> NatsTransport::Connect(
    const NatsOptions& options) {
  auto state = std::make_unique<State>();
  PANTAU_ASSIGN_OR_RETURN(
      state->conn, NatsConnection::Open(options, &OnPublishAck, state.get()));
  return std::unique_ptr<NatsTransport>(new NatsTransport(std::move(state)));
}

NatsTransport::NatsTransport(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

NatsTransport::~NatsTransport() = default;

std::vector<absl::Status> NatsTransport::Publish(
    const std::vector<Message>& batch, absl::Duration timeout) {
  absl::MutexLock publish_lock(&state_->publish_mu);
  {
    absl::MutexLock lock(&state_->mu);
    state_->acks.clear();
  }
  jsCtx* js = state_->conn->js;
  std::vector<absl::Status> out(batch.size());
  std::vector<bool> sent(batch.size(), false);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout));
  for (size_t i = 0; i < batch.size(); ++i) {
    const Message& m = batch[i];
    natsMsg* msg = nullptr;
    natsStatus s =
        natsMsg_Create(&msg, m.topic.c_str(), nullptr, m.payload.data(),
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
    po.MsgId = m.id.c_str();
    if (s == NATS_OK) s = js_PublishMsgAsync(js, &msg, &po);
    natsMsg_Destroy(msg);  // no-op when the library took it
    if (s != NATS_OK) {
      out[i] = NatsError(s, absl::StrCat("publish to ", m.topic));
    } else {
      sent[i] = true;
    }
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = po.MaxWait;
  natsStatus s = js_PublishAsyncComplete(js, &wait);
  if (s != NATS_OK) {
    // Take back whatever is still unacknowledged; late acks are dropped.
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, js) == NATS_OK) {
      natsMsgList_Destroy(&pending);
    }
  }
  absl::MutexLock lock(&state_->mu);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!sent[i]) continue;
    auto it = state_->acks.find(batch[i].id);
    if (it == state_->acks.end()) {
      out[i] = absl::DeadlineExceededError(
          absl::StrCat("nats: no publish ack for ", batch[i].id, " within ",
                       absl::FormatDuration(timeout)));
    } else {
      out[i] = it->second;
    }
  }
  return out;
}

struct NatsSource::State {
  std::unique_ptr<NatsConnection> conn;
  natsSubscription* sub = nullptr;
  ~State() { natsSubscription_Destroy(sub); }
};

namespace {

class NatsDelivery : public Delivery {
 public:
  NatsDelivery(natsMsg* msg, Message m) : msg_(msg), m_(std::move(m)) {}
  ~NatsDelivery() override { natsMsg_Destroy(msg_); }
  const Message& message() const override { return m_; }
  absl::Status Ack() override {
    natsStatus s = natsMsg_Ack(msg_, nullptr);
    return s == NATS_OK ? absl::OkStatus() : NatsError(s, "ack");
  }
  absl::Status Nak(absl::Duration delay) override {
    natsStatus s =
        natsMsg_NakWithDelay(msg_, absl::ToInt64Milliseconds(delay), nullptr);
    return s == NATS_OK ? absl::OkStatus() : NatsError(s, "nak");
  }

 private:
  natsMsg* msg_;
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

}  // namespace

absl::StatusOr<std::unique_ptr<NatsSource>> NatsSource::Connect(
    const NatsOptions& options, const NatsSourceOptions& source) {
  auto state = std::make_unique<State>();
  PANTAU_ASSIGN_OR_RETURN(state->conn,
                          NatsConnection::Open(options, nullptr, nullptr));
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.AckWait = absl::ToInt64Nanoseconds(source.ack_wait);
  so.Config.MaxAckPending = source.max_ack_pending;
  so.Config.AckPolicy = js_AckExplicit;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s =
      js_PullSubscribe(&state->sub, state->conn->js, source.subject.c_str(),
                       source.durable.c_str(), nullptr, &so, &jerr);
  if (s != NATS_OK) {
    return NatsError(s, absl::StrCat("pull subscribe ", source.subject), jerr);
  }
  return std::unique_ptr<NatsSource>(new NatsSource(std::move(state)));
}

NatsSource::NatsSource(std::unique_ptr<State> state)
    : state_(std::move(state)) {}

NatsSource::~NatsSource() = default;

absl::StatusOr<std::vector<std::unique_ptr<Delivery>>> NatsSource::Fetch(
    int max, absl::Duration timeout) {
  std::vector<std::unique_ptr<Delivery>> out;
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = natsSubscription_Fetch(
      &list, state_->sub, max,
      std::max<int64_t>(1, absl::ToInt64Milliseconds(timeout)), &jerr);
  if (s == NATS_TIMEOUT && list.Count == 0) return out;
  if (s != NATS_OK && list.Count == 0) return NatsError(s, "fetch", jerr);
  // libnats 3.4.1 was seen (under AddressSanitizer) returning a Count
  // larger than the `max`-sized array it allocated; never read or free past
  // `max`. Anything beyond is left unacked and the server redelivers it.
  int n = std::min(list.Count, max);
  for (int i = 0; i < n; ++i) {
    natsMsg* msg = list.Msgs[i];
    list.Msgs[i] = nullptr;  // the delivery owns it now
    if (msg == nullptr) continue;
    Message m = FromNats(msg);
    out.push_back(std::make_unique<NatsDelivery>(msg, std::move(m)));
  }
  list.Count = n;
  natsMsgList_Destroy(&list);
  return out;
}

}  // namespace pantau::outbox
