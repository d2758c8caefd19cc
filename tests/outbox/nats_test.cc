// The JetStream transport and source against a real nats-server:
// end-to-end delivery with headers, server-side dedup by Nats-Msg-Id,
// failure (not a hang) while the server is down, recovery after restart.
#include <nats/nats.h>
#include <sqlite3.h>

#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "pantau/outbox/consumer.h"
#include "pantau/outbox/nats_transport.h"
#include "pantau/outbox/relay.h"
#include "pantau/outbox/sqlite_store.h"
#include "servers.h"

namespace pantau::outbox {
namespace {

class NatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = testing::NatsServer::Start();
    if (!s.ok()) GTEST_SKIP() << "no nats-server: " << s.status();
    server_ = std::move(*s);
    options_.url = server_->url();
    options_.stream = "ORDERS";
    options_.subjects = {"orders.>"};
  }

  // Fetches until `n` messages arrived or 10 s passed; acks them all.
  std::vector<Message> Drain(NatsSource* source, size_t n) {
    std::vector<Message> out;
    absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (out.size() < n && absl::Now() < deadline) {
      auto batch = source->Fetch(100, absl::Milliseconds(200));
      if (!batch.ok()) continue;
      for (auto& d : *batch) {
        out.push_back(d->message());
        EXPECT_TRUE(d->Ack().ok());
      }
    }
    return out;
  }

  Message Msg(const std::string& key, const std::string& payload) {
    Message m;
    m.id = NewMessageId();
    m.topic = "orders.created";
    m.key = key;
    m.type = "order.created";
    m.payload = payload;
    m.created_at = absl::FromUnixMillis(1700000000123);
    m.headers[kTraceparentHeader] =
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    return m;
  }

  std::unique_ptr<testing::NatsServer> server_;
  NatsOptions options_;
};

TEST_F(NatsTest, PublishedMessageArrivesWithIdKeyTypeAndHeaders) {
  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  auto source = NatsSource::Connect(options_, {.subject = "orders.>"});
  ASSERT_TRUE(source.ok()) << source.status();
  Message m = Msg("k1", std::string("bin\0ary", 7));
  auto results = (*transport)->Publish({m}, absl::Seconds(5));
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].ok()) << results[0];
  auto got = Drain(source->get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, m.id);
  EXPECT_EQ(got[0].topic, "orders.created");
  EXPECT_EQ(got[0].key, "k1");
  EXPECT_EQ(got[0].type, "order.created");
  EXPECT_EQ(got[0].payload, m.payload);
  EXPECT_EQ(got[0].created_at, m.created_at);
  EXPECT_EQ(got[0].headers, m.headers);
}

TEST_F(NatsTest, RepublishedIdIsDroppedByTheStream) {
  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  auto source = NatsSource::Connect(options_, {.subject = "orders.>"});
  ASSERT_TRUE(source.ok());
  Message a = Msg("k", "a"), b = Msg("k", "b");
  for (int i = 0; i < 3; ++i) {
    for (const absl::Status& s :
         (*transport)->Publish({a, b}, absl::Seconds(5))) {
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  auto got = Drain(source->get(), 2);
  EXPECT_EQ(got.size(), 2u);
  // Nothing more arrives: the four republishes were deduplicated.
  auto more = (*source)->Fetch(10, absl::Milliseconds(300));
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(more->empty());
}

// Each message of a batch gets its own ack: a refusal or a subject without
// a stream fails that message alone, at once rather than at the timeout.
TEST_F(NatsTest, PublishReportsEachMessagesAckOnItsOwn) {
  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  // A stream that refuses a second message.
  {
    natsConnection* nc = nullptr;
    ASSERT_EQ(natsConnection_ConnectTo(&nc, server_->url().c_str()), NATS_OK);
    jsCtx* js = nullptr;
    ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = "LIMITED";
    const char* subjects[] = {"limited.>"};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.MaxMsgs = 1;
    cfg.Discard = js_DiscardNew;
    jsStreamInfo* si = nullptr;
    ASSERT_EQ(js_AddStream(&si, js, &cfg, nullptr, nullptr), NATS_OK);
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
  Message ok1 = Msg("k", "1"), full1 = Msg("k", "2"), nowhere = Msg("k", "3"),
          full2 = Msg("k", "4"), ok2 = Msg("k", "5");
  full1.topic = full2.topic = "limited.x";
  nowhere.topic = "nowhere.x";
  absl::Time start = absl::Now();
  auto r = (*transport)
               ->Publish({ok1, full1, nowhere, full2, ok2}, absl::Seconds(20));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ASSERT_EQ(r.size(), 5u);
  EXPECT_TRUE(r[0].ok()) << r[0];
  EXPECT_TRUE(r[1].ok()) << r[1];  // the stream's one message
  EXPECT_EQ(r[2].code(), absl::StatusCode::kUnavailable) << r[2];
  EXPECT_NE(r[2].message().find("503"), std::string::npos) << r[2];
  EXPECT_EQ(r[3].code(), absl::StatusCode::kInternal) << r[3];
  EXPECT_NE(r[3].message().find("jetstream error"), std::string::npos) << r[3];
  EXPECT_TRUE(r[4].ok()) << r[4];
  // The next batch is not confused by anything left from this one.
  auto again = (*transport)->Publish({Msg("k", "6")}, absl::Seconds(5));
  EXPECT_TRUE(again[0].ok()) << again[0];
}

TEST_F(NatsTest, PublishFailsWhileServerIsDownAndRecoversAfterRestart) {
  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  server_->Kill();
  auto down = (*transport)->Publish({Msg("k", "x")}, absl::Milliseconds(500));
  ASSERT_EQ(down.size(), 1u);
  EXPECT_FALSE(down[0].ok());
  ASSERT_TRUE(server_->Restart().ok());
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  bool ok = false;
  while (!ok && absl::Now() < deadline) {
    ok = (*transport)->Publish({Msg("k", "y")}, absl::Seconds(1))[0].ok();
  }
  EXPECT_TRUE(ok) << "no publish succeeded after the restart";
}

TEST_F(NatsTest, ConnectFailsCleanlyWhenNoServerListens) {
  NatsOptions o = options_;
  o.url = "nats://127.0.0.1:" + std::to_string(testing::FreePort());
  auto t = NatsTransport::Connect(o);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(NatsTest, OutboxToInboxEndToEndOverJetStream) {
  testing::ScopedTempDir scoped("outbox_e2e");
  const std::string& dir = scoped.path();
  auto store = SqliteStore::Open(dir + "/producer.db");
  ASSERT_TRUE(store.ok());
  sqlite3* app = (*store)->db();
  SqliteOutbox out(app);
  sqlite3_exec(app, "BEGIN", nullptr, nullptr, nullptr);
  for (int i = 0; i < 50; ++i) {
    Message m = Msg("k" + std::to_string(i % 5), std::to_string(i));
    m.id.clear();
    ASSERT_TRUE(out.Enqueue(m).ok());
  }
  sqlite3_exec(app, "COMMIT", nullptr, nullptr, nullptr);

  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok());
  Relay relay(store->get(), transport->get(), {.relay_id = "r"});
  while (*relay.RunOnce() > 0) {
  }

  sqlite3* cdb = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/consumer.db").c_str(), &cdb), SQLITE_OK);
  ASSERT_TRUE(MigrateSqlite(cdb).ok());
  sqlite3_exec(cdb, "CREATE TABLE effects(payload TEXT)", nullptr, nullptr,
               nullptr);
  SqliteInbox inbox(cdb, "billing");
  auto source = NatsSource::Connect(options_, {.subject = "orders.>"});
  ASSERT_TRUE(source.ok());
  Consumer consumer(source->get(), "billing", [&](const Message& m) {
    return inbox.Process(m, [](sqlite3* db, const Message& m) {
      std::string sql = "INSERT INTO effects VALUES('" + m.payload + "')";
      return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) ==
                     SQLITE_OK
                 ? absl::OkStatus()
                 : absl::InternalError("insert");
    });
  });
  int handled = 0;
  absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (handled < 50 && absl::Now() < deadline) {
    auto n = consumer.PollOnce();
    if (n.ok()) handled += *n;
  }
  EXPECT_EQ(handled, 50);
  sqlite3_stmt* q;
  sqlite3_prepare_v2(cdb, "SELECT count(DISTINCT payload) FROM effects", -1, &q,
                     nullptr);
  sqlite3_step(q);
  EXPECT_EQ(sqlite3_column_int(q, 0), 50);
  sqlite3_finalize(q);
  // After `inbox` (declared later) finalizes its statements.
  sqlite3_close_v2(cdb);
}

// A restarted consumer process binds to the durable that already exists
// and goes on where the last one acked; a Delivery can still be acked after
// its source is gone.
TEST_F(NatsTest, ReconnectedSourceResumesTheExistingDurable) {
  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  Message a = Msg("k", "a"), b = Msg("k", "b");
  ASSERT_TRUE((*transport)->Publish({a}, absl::Seconds(5))[0].ok());
  std::unique_ptr<Delivery> kept;
  {
    auto first = NatsSource::Connect(options_, {.subject = "orders.>"});
    ASSERT_TRUE(first.ok()) << first.status();
    auto batch = (*first)->Fetch(10, absl::Seconds(2));
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_EQ(batch->size(), 1u);
    kept = std::move((*batch)[0]);
  }
  EXPECT_EQ(kept->message().id, a.id);
  EXPECT_TRUE(kept->Ack().ok());
  kept.reset();
  ASSERT_TRUE((*transport)->Publish({b}, absl::Seconds(5))[0].ok());
  auto second = NatsSource::Connect(options_, {.subject = "orders.>"});
  ASSERT_TRUE(second.ok()) << second.status();
  auto got = Drain(second->get(), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].id, b.id);
}

// Sees every pull request the source sends (a plain subscriber on the
// consumer's API subject) and can send its own with the same reply subject,
// so a test can make an earlier request deliver into the source's inbox
// while a later Fetch is running.
class PullRequestSpy {
 public:
  explicit PullRequestSpy(const std::string& url) {
    EXPECT_EQ(natsConnection_ConnectTo(&nc_, url.c_str()), NATS_OK);
    EXPECT_EQ(natsConnection_Subscribe(&sub_, nc_, kNext, &OnRequest, this),
              NATS_OK);
    EXPECT_EQ(natsConnection_Flush(nc_), NATS_OK);
  }
  ~PullRequestSpy() {
    natsSubscription_Destroy(sub_);
    natsConnection_Destroy(nc_);
  }
  std::string reply() {
    absl::MutexLock lock(&mu_);
    return reply_;
  }
  // Sends a pull request answered to the source's inbox.
  void Pull(const std::string& reply, const std::string& body) {
    EXPECT_EQ(
        natsConnection_PublishRequest(nc_, kNext, reply.c_str(), body.data(),
                                      static_cast<int>(body.size())),
        NATS_OK);
    EXPECT_EQ(natsConnection_Flush(nc_), NATS_OK);
  }
  // The next request seen is followed at once by `body` to its reply.
  void ArmFollowUp(const std::string& body) {
    absl::MutexLock lock(&mu_);
    follow_up_ = body;
  }

  static constexpr char kNext[] = "$JS.API.CONSUMER.MSG.NEXT.ORDERS.pantau";

 private:
  static void OnRequest(natsConnection* nc, natsSubscription*, natsMsg* msg,
                        void* closure) {
    auto* self = static_cast<PullRequestSpy*>(closure);
    std::string reply = natsMsg_GetReply(msg) ? natsMsg_GetReply(msg) : "";
    std::string follow_up;
    {
      absl::MutexLock lock(&self->mu_);
      if (self->reply_.empty()) self->reply_ = reply;
      std::swap(follow_up, self->follow_up_);
    }
    if (!follow_up.empty()) {
      natsConnection_PublishRequest(nc, kNext, reply.c_str(), follow_up.data(),
                                    static_cast<int>(follow_up.size()));
    }
    natsMsg_Destroy(msg);
  }

  natsConnection* nc_ = nullptr;
  natsSubscription* sub_ = nullptr;
  absl::Mutex mu_;
  std::string reply_ ABSL_GUARDED_BY(mu_);
  std::string follow_up_ ABSL_GUARDED_BY(mu_);
};

// Deliveries of earlier pull requests can wait in the source's inbox when a
// Fetch starts, and keep arriving while it runs (after a broker restart the
// client flushes requests it buffered while disconnected). libnats 3.4.1's
// natsSubscription_Fetch then wrote past its `max`-sized array (the chaos
// consumer's heap corruption; under AddressSanitizer the messages it put
// there show up as leaks). A Fetch returns at most `max`, and nothing is
// lost.
TEST_F(NatsTest, FetchStaysWithinMaxWhileEarlierRequestsStillDeliver) {
  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  auto source = NatsSource::Connect(
      options_, {.subject = "orders.>", .ack_wait = absl::Seconds(2)});
  ASSERT_TRUE(source.ok()) << source.status();
  PullRequestSpy spy(server_->url());
  // An empty fetch shows the spy the inbox the source's requests use.
  auto none = (*source)->Fetch(10, absl::Milliseconds(100));
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE(none->empty());
  absl::Time until = absl::Now() + absl::Seconds(2);
  while (spy.reply().empty() && absl::Now() < until) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  const std::string reply = spy.reply();
  ASSERT_FALSE(reply.empty());

  std::vector<Message> sent;
  for (int i = 0; i < 46; ++i) sent.push_back(Msg("k", std::to_string(i)));
  for (const absl::Status& s : (*transport)->Publish(sent, absl::Seconds(5))) {
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::SleepFor(absl::Milliseconds(200));  // the empty fetch's request ended
  // Six deliveries wait in the inbox before the next Fetch starts ...
  spy.Pull(reply, R"({"batch":6,"no_wait":true})");
  absl::SleepFor(absl::Milliseconds(300));
  // ... and the rest arrive for an earlier request while it runs.
  spy.ArmFollowUp(R"({"batch":100,"expires":2000000000})");

  constexpr int kMax = 10;
  std::set<std::string> seen;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (seen.size() < sent.size() && absl::Now() < deadline) {
    auto batch = (*source)->Fetch(kMax, absl::Milliseconds(500));
    if (!batch.ok()) continue;
    ASSERT_LE(batch->size(), static_cast<size_t>(kMax));
    for (auto& d : *batch) {
      seen.insert(d->message().id);
      EXPECT_TRUE(d->Ack().ok());
    }
  }
  EXPECT_EQ(seen.size(), sent.size());
}

// A fetch issued while the broker is down leaves its pull request in the
// client's reconnect buffer; after the restart the broker answers all of
// them at once, so messages wait in the subscription when the next fetch
// starts. libnats 3.4.1's own Fetch then collected more than `max` into a
// `max`-sized array (heap corruption in the chaos consumer). Every batch
// must stay within `max`, and every message must still arrive.
TEST_F(NatsTest, FetchStaysWithinMaxAcrossBrokerRestarts) {
  auto transport = NatsTransport::Connect(options_);
  ASSERT_TRUE(transport.ok()) << transport.status();
  std::vector<Message> sent;
  for (int i = 0; i < 400; ++i) sent.push_back(Msg("k", std::to_string(i)));
  for (const absl::Status& s : (*transport)->Publish(sent, absl::Seconds(5))) {
    ASSERT_TRUE(s.ok()) << s;
  }
  NatsOptions o = options_;
  o.reconnect_wait = absl::Milliseconds(50);
  auto source = NatsSource::Connect(
      o, {.subject = "orders.>", .ack_wait = absl::Seconds(3)});
  ASSERT_TRUE(source.ok()) << source.status();
  constexpr int kMax = 8;
  std::set<std::string> seen;
  auto fetch_and_ack = [&](absl::Duration timeout) {
    auto batch = (*source)->Fetch(kMax, timeout);
    if (!batch.ok()) return;
    EXPECT_LE(batch->size(), static_cast<size_t>(kMax));
    for (auto& d : *batch) {
      seen.insert(d->message().id);
      d->Ack().IgnoreError();
    }
  };
  for (int round = 0; round < 4; ++round) {
    server_->Kill();
    for (int i = 0; i < 6; ++i) fetch_and_ack(absl::Milliseconds(30));
    ASSERT_TRUE(server_->Restart().ok());
    // Give the reconnect time to flush the buffered pull requests and the
    // broker time to answer them before the next fetch starts.
    absl::Time until = absl::Now() + absl::Seconds(10);
    while (absl::Now() < until) {
      absl::SleepFor(absl::Milliseconds(300));
      size_t before = seen.size();
      fetch_and_ack(absl::Milliseconds(200));
      if (seen.size() > before) break;
    }
  }
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (seen.size() < sent.size() && absl::Now() < deadline) {
    fetch_and_ack(absl::Milliseconds(200));
  }
  EXPECT_EQ(seen.size(), sent.size());
}

}  // namespace
}  // namespace pantau::outbox
