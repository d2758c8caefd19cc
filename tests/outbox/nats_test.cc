// The JetStream transport and source against a real nats-server:
// end-to-end delivery with headers, server-side dedup by Nats-Msg-Id,
// failure (not a hang) while the server is down, recovery after restart.
#include <sqlite3.h>

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
  sqlite3_close(cdb);
}

}  // namespace
}  // namespace pantau::outbox
