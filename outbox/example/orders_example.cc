// A complete outbox/inbox round trip, as shown in docs/outbox.md:
// a service writes an order and its "order.created" message in one SQLite
// transaction; a relay publishes it to NATS JetStream; another service
// consumes it through its inbox, exactly once in effect.
//
//   nats-server -js &            # a JetStream server on :4222
//   orders_example nats://127.0.0.1:4222 /tmp/orders-demo
#include <sqlite3.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "pantau/outbox/consumer.h"
#include "pantau/outbox/nats_transport.h"
#include "pantau/outbox/relay.h"
#include "pantau/outbox/sqlite_store.h"

using namespace pantau::outbox;

// Says what went wrong and exits with 1.
int Fail(const char* what, const absl::Status& s) {
  fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return 1;
}

int main(int argc, char** argv) {
  std::string nats_url = argc > 1 ? argv[1] : "nats://127.0.0.1:4222";
  std::string dir = argc > 2 ? argv[2] : "/tmp";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);

  // --- Producer service: business write + message in ONE transaction. ---
  sqlite3* db = nullptr;
  if (sqlite3_open((dir + "/orders.db").c_str(), &db) != SQLITE_OK) {
    return Fail("open orders.db", absl::UnavailableError(sqlite3_errmsg(db)));
  }
  absl::Status s = ConfigureSqliteConnection(db, absl::Seconds(5));
  if (s.ok()) s = MigrateSqlite(db);
  if (!s.ok()) return Fail("orders.db", s);
  sqlite3_exec(db,
               "CREATE TABLE IF NOT EXISTS orders(id TEXT PRIMARY KEY, "
               "total_cents INTEGER)",
               nullptr, nullptr, nullptr);
  SqliteOutbox outbox(db);
  std::string order_id = "o-" + std::to_string(absl::ToUnixMicros(absl::Now()));
  std::string insert = "INSERT INTO orders VALUES ('" + order_id + "', 4200)";
  sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  s = sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK
          ? absl::OkStatus()
          : absl::InternalError(sqlite3_errmsg(db));
  Message m;
  m.topic = "shop.orders.created";  // the NATS subject
  m.key = "customer-7";             // per-customer order is kept
  m.type = "order.created";
  m.payload = "{\"order\":\"" + order_id + "\",\"total_cents\":4200}";
  m.headers["content-type"] = "application/json";
  // id, created_at and traceparent are filled in by Enqueue.
  if (s.ok()) s = outbox.Enqueue(m);
  sqlite3_exec(db, s.ok() ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr);
  if (!s.ok()) return Fail("enqueue", s);
  printf("enqueued %s\n", m.id.c_str());

  // --- Relay: its own connection, publishes to JetStream. ---
  NatsOptions nats;
  nats.url = nats_url;
  nats.stream = "SHOP";  // created when missing
  nats.subjects = {"shop.>"};
  auto store = SqliteStore::Open(dir + "/orders.db");
  auto transport = NatsTransport::Connect(nats);
  if (!store.ok()) return Fail("relay store", store.status());
  if (!transport.ok()) return Fail("relay transport", transport.status());
  Relay relay(store->get(), transport->get(), {.max_attempts = 20});
  std::thread relay_thread([&] { relay.Run(); });

  // --- Consumer service: its own database, inbox + effect together. ---
  sqlite3* billing = nullptr;
  if (sqlite3_open((dir + "/billing.db").c_str(), &billing) != SQLITE_OK) {
    return Fail("open billing.db",
                absl::UnavailableError(sqlite3_errmsg(billing)));
  }
  s = ConfigureSqliteConnection(billing, absl::Seconds(5));
  if (s.ok()) s = MigrateSqlite(billing);
  if (!s.ok()) return Fail("billing.db", s);
  sqlite3_exec(billing, "CREATE TABLE IF NOT EXISTS invoices(order_json TEXT)",
               nullptr, nullptr, nullptr);
  SqliteInbox inbox(billing, "billing");
  auto source = NatsSource::Connect(
      nats, {.durable = "billing", .subject = "shop.orders.>"});
  if (!source.ok()) return Fail("consumer", source.status());
  Consumer consumer(source->get(), "billing", [&](const Message& msg) {
    return inbox.Process(msg, [](sqlite3* db, const Message& msg) {
      sqlite3_stmt* q = nullptr;
      sqlite3_prepare_v2(db, "INSERT INTO invoices VALUES (?1)", -1, &q,
                         nullptr);
      sqlite3_bind_text(q, 1, msg.payload.data(), msg.payload.size(),
                        SQLITE_TRANSIENT);
      int rc = sqlite3_step(q);
      sqlite3_finalize(q);
      return rc == SQLITE_DONE ? absl::OkStatus()
                               : absl::InternalError(sqlite3_errmsg(db));
    });
  });
  int handled = 0;
  for (int i = 0; i < 10 && handled == 0; ++i) {
    auto n = consumer.PollOnce();
    if (n.ok()) handled = *n;
  }
  relay.Stop();
  relay_thread.join();
  sqlite3_close(billing);
  sqlite3_close(db);
  if (handled == 0) {
    return Fail("billing", absl::DeadlineExceededError("no message arrived"));
  }
  printf("billing handled %d message(s)\n", handled);
  return 0;
}
