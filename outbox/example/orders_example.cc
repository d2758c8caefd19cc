// A complete outbox/inbox round trip, as shown in docs/outbox.md:
// a service writes an order and its "order.created" message in one SQLite
// transaction; a relay publishes it to NATS JetStream; another service
// consumes it through its inbox, exactly once in effect.
//
//   nats-server -js &            # a JetStream server on :4222
//   orders_example nats://127.0.0.1:4222 /tmp/orders-demo
#include <sqlite3.h>

#include <cstdio>
#include <string>
#include <thread>

#include "pantau/outbox/consumer.h"
#include "pantau/outbox/nats_transport.h"
#include "pantau/outbox/relay.h"
#include "pantau/outbox/sqlite_store.h"

using namespace pantau::outbox;

int main(int argc, char** argv) {
  std::string nats_url = argc > 1 ? argv[1] : "nats://127.0.0.1:4222";
  std::string dir = argc > 2 ? argv[2] : "/tmp";

  // --- Producer service: business write + message in ONE transaction. ---
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/orders.db").c_str(), &db);
  if (!ConfigureSqliteConnection(db, absl::Seconds(5)).ok() ||
      !MigrateSqlite(db).ok()) {
    return 1;
  }
  sqlite3_exec(db,
               "CREATE TABLE IF NOT EXISTS orders(id TEXT PRIMARY KEY, "
               "total_cents INTEGER)",
               nullptr, nullptr, nullptr);
  SqliteOutbox outbox(db);
  std::string order_id = "o-" + std::to_string(absl::ToUnixMicros(absl::Now()));
  std::string insert = "INSERT INTO orders VALUES ('" + order_id + "', 4200)";
  sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  absl::Status s =
      sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK
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
  if (!s.ok()) {
    fprintf(stderr, "enqueue: %s\n", s.ToString().c_str());
    return 1;
  }
  printf("enqueued %s\n", m.id.c_str());

  // --- Relay: its own connection, publishes to JetStream. ---
  NatsOptions nats;
  nats.url = nats_url;
  nats.stream = "SHOP";  // created when missing
  nats.subjects = {"shop.>"};
  auto store = SqliteStore::Open(dir + "/orders.db");
  auto transport = NatsTransport::Connect(nats);
  if (!store.ok() || !transport.ok()) {
    fprintf(
        stderr, "relay: %s\n",
        (!store.ok() ? store.status() : transport.status()).ToString().c_str());
    return 1;
  }
  Relay relay(store->get(), transport->get(), {.max_attempts = 20});
  std::thread relay_thread([&] { relay.Run(); });

  // --- Consumer service: its own database, inbox + effect together. ---
  sqlite3* billing = nullptr;
  sqlite3_open((dir + "/billing.db").c_str(), &billing);
  ConfigureSqliteConnection(billing, absl::Seconds(5)).IgnoreError();
  MigrateSqlite(billing).IgnoreError();
  sqlite3_exec(billing, "CREATE TABLE IF NOT EXISTS invoices(order_json TEXT)",
               nullptr, nullptr, nullptr);
  SqliteInbox inbox(billing, "billing");
  auto source = NatsSource::Connect(
      nats, {.durable = "billing", .subject = "shop.orders.>"});
  if (!source.ok()) return 1;
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
  for (int i = 0; i < 10; ++i) {
    auto n = consumer.PollOnce();
    if (n.ok() && *n > 0) {
      printf("billing handled %d message(s)\n", *n);
      break;
    }
  }
  relay.Stop();
  relay_thread.join();
  sqlite3_close(billing);
  sqlite3_close(db);
  return 0;
}
