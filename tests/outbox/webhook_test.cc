// The webhook transport over real HTTP (pantau::net client and server):
// the relay posts, a receiver decodes the request into the same message
// and runs its inbox; a 5xx is retried, a redelivery has one effect.
#include <sqlite3.h>

#include <atomic>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "net/http_server.h"
#include "net/router.h"
#include "pantau/outbox/net_http_poster.h"
#include "pantau/outbox/relay.h"
#include "pantau/outbox/sqlite_store.h"
#include "pantau/outbox/webhook_transport.h"
#include "servers.h"

namespace pantau::outbox {
namespace {

TEST(Webhook, RelayPostsAndReceiverInboxHasOneEffectPerMessage) {
  testing::ScopedTempDir scoped("outbox_webhook");
  const std::string& dir = scoped.path();
  sqlite3* rdb = nullptr;
  ASSERT_EQ(sqlite3_open((dir + "/receiver.db").c_str(), &rdb), SQLITE_OK);
  ASSERT_TRUE(MigrateSqlite(rdb).ok());
  sqlite3_exec(rdb, "CREATE TABLE effects(payload TEXT, traceparent TEXT)",
               nullptr, nullptr, nullptr);
  absl::Mutex mu;
  SqliteInbox inbox(rdb, "receiver");
  std::atomic<int> requests{0};

  auto router = std::make_shared<net::Router>();
  ASSERT_TRUE(
      router
          ->Handle(
              "POST", "/hooks/orders",
              [&](const net::HttpRequest& req, net::RequestContext&) {
                // The first delivery fails: the relay must retry.
                if (requests++ == 0) {
                  return net::HttpResponse::Error(503, "warming up");
                }
                std::vector<std::pair<std::string, std::string>> h(
                    req.headers.begin(), req.headers.end());
                auto m = DecodeWebhook(h, req.body);
                if (!m.ok()) {
                  return net::HttpResponse::Error(400, m.status().ToString());
                }
                absl::MutexLock lock(&mu);
                auto r = inbox.Process(*m, [](sqlite3* db, const Message& m) {
                  std::string sql = "INSERT INTO effects VALUES ('" +
                                    m.payload + "', '" +
                                    m.headers.at("traceparent") + "')";
                  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr,
                                      nullptr) == SQLITE_OK
                             ? absl::OkStatus()
                             : absl::InternalError("effect");
                });
                return r.ok() ? net::HttpResponse::Text(204, "")
                              : net::HttpResponse::Error(500, "inbox");
              })
          .ok());
  net::HttpServer::Options so;
  so.listen_address = "127.0.0.1:0";
  net::HttpServer server(so, router);
  ASSERT_TRUE(server.Start().ok());

  auto store = SqliteStore::Open(dir + "/producer.db");
  ASSERT_TRUE(store.ok());
  SqliteOutbox out((*store)->db());
  sqlite3_exec((*store)->db(), "BEGIN", nullptr, nullptr, nullptr);
  for (int i = 0; i < 5; ++i) {
    Message m;
    m.topic = "orders";
    m.key = "k";
    m.payload = "order-" + std::to_string(i);
    m.headers["traceparent"] =
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    ASSERT_TRUE(out.Enqueue(m).ok());
  }
  sqlite3_exec((*store)->db(), "COMMIT", nullptr, nullptr, nullptr);

  NetHttpPoster poster;
  WebhookTransport transport(
      {.base_url =
           "http://127.0.0.1:" + std::to_string(server.port()) + "/hooks"},
      &poster);
  base::FakeClock clock(absl::Now());
  Relay relay(store->get(), &transport,
              {.relay_id = "r",
               .publish_timeout = absl::Seconds(5),
               .backoff_initial = absl::Seconds(1),
               .jitter = 0},
              &clock);
  ASSERT_EQ(*relay.RunOnce(), 5);  // the first fails, the rest wait behind it
  EXPECT_EQ(requests.load(), 1);
  clock.Advance(absl::Seconds(1));
  ASSERT_EQ(*relay.RunOnce(), 5);
  EXPECT_EQ((*store)->Stats(clock.Now())->pending, 0);

  // A redelivery of the same message (e.g. a retry after a lost response)
  // is skipped by the receiver's inbox.
  ASSERT_EQ(sqlite3_exec((*store)->db(),
                         "DELETE FROM pantau_outbox_delivered WHERE seq = 1; "
                         "INSERT INTO pantau_outbox_pending (seq, key, "
                         "next_attempt_at) SELECT seq, key, 0 FROM "
                         "pantau_outbox_message WHERE seq = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  ASSERT_EQ(*relay.RunOnce(), 1);
  server.Shutdown(absl::Seconds(1));

  sqlite3_stmt* q;
  sqlite3_prepare_v2(
      rdb,
      "SELECT count(*), count(DISTINCT payload), min(traceparent) "
      "FROM effects",
      -1, &q, nullptr);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 5);
  EXPECT_EQ(sqlite3_column_int(q, 1), 5);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(q, 2)),
               "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  sqlite3_finalize(q);
  sqlite3_close_v2(rdb);
}

}  // namespace
}  // namespace pantau::outbox
