// The PostgreSQL store against a real throwaway cluster: transactions,
// per-key order with two relays sharing the work, LISTEN/NOTIFY wake-ups,
// dead letters and the inbox.
#include "pantau/outbox/pg_store.h"

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pantau/outbox/memory_transport.h"
#include "pantau/outbox/relay.h"
#include "servers.h"

namespace pantau::outbox {
namespace {

// Runs SQL written by hand (an older version's schema and rows).
void ExecOk(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  EXPECT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK ||
              PQresultStatus(r) == PGRES_TUPLES_OK)
      << PQerrorMessage(c);
  PQclear(r);
}

// The first column of the first row as an integer, -1 when there is none.
int64_t QueryInt(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  int64_t v = PQntuples(r) > 0 ? atoll(PQgetvalue(r, 0, 0)) : -1;
  PQclear(r);
  return v;
}

// How many messages (up to 100) a claim through the schema's function
// takes on `c`, as a relay's session does, inside `c`'s open transaction.
int64_t ClaimThroughFunction(PGconn* c) {
  return QueryInt(c,
                  "SELECT count(*) FROM pantau_outbox_claim(0, 100, 32, 0, "
                  "60000)");
}

class PgStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pg = testing::SharedPostgres();
    if (!pg.ok()) GTEST_SKIP() << "no PostgreSQL: " << pg.status();
    auto db = (*pg)->NewDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    conninfo_ = *db;
    auto store = PgStore::Open(conninfo_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    app_ = PQconnectdb(conninfo_.c_str());
    ASSERT_EQ(PQstatus(app_), CONNECTION_OK);
    Exec("CREATE TABLE orders (id TEXT PRIMARY KEY)");
  }
  void TearDown() override {
    if (app_ != nullptr) PQfinish(app_);
  }

  void Exec(const std::string& sql) {
    PGresult* r = PQexec(app_, sql.c_str());
    ASSERT_TRUE(PQresultStatus(r) == PGRES_COMMAND_OK ||
                PQresultStatus(r) == PGRES_TUPLES_OK)
        << PQerrorMessage(app_);
    PQclear(r);
  }
  int64_t QueryInt(const std::string& sql) {
    return outbox::QueryInt(app_, sql);
  }
  // Commits `per_key` messages for each of `keys` keys ("k0", "k1", ...) in
  // one transaction, interleaved: payload i is the key's i-th message.
  void EnqueueInterleaved(int keys, int per_key) {
    PgOutbox out(app_, &clock_);
    Exec("BEGIN");
    for (int i = 0; i < per_key; ++i) {
      for (int k = 0; k < keys; ++k) {
        Message m;
        m.topic = "orders";
        m.key = "k" + std::to_string(k);
        m.payload = std::to_string(i);
        ASSERT_TRUE(out.Enqueue(m).ok());
      }
    }
    Exec("COMMIT");
  }
  std::string Enqueue(const std::string& key, const std::string& payload,
                      bool commit = true) {
    PgOutbox out(app_, &clock_);
    Exec("BEGIN");
    Exec("INSERT INTO orders VALUES ('" + payload + "')");
    Message m;
    m.topic = "orders";
    m.key = key;
    m.payload = payload;
    m.headers[kTraceparentHeader] =
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    EXPECT_TRUE(out.Enqueue(m).ok());
    Exec(commit ? "COMMIT" : "ROLLBACK");
    return m.id;
  }

  std::string conninfo_;
  base::FakeClock clock_;
  std::unique_ptr<PgStore> store_;
  PGconn* app_ = nullptr;
};

TEST_F(PgStoreTest, EnqueueCommitsWithTheBusinessWriteOnly) {
  PgOutbox out(app_, &clock_);
  Message m;
  m.topic = "orders";
  EXPECT_EQ(out.Enqueue(m).code(), absl::StatusCode::kFailedPrecondition);
  Enqueue("k", "rolled-back", /*commit=*/false);
  std::string id = Enqueue("k", "committed");
  auto claimed = store_->Claim("r", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].id, id);
  EXPECT_EQ((*claimed)[0].payload, "committed");
  EXPECT_EQ((*claimed)[0].headers.at(kTraceparentHeader),
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  EXPECT_EQ((*claimed)[0].created_at, clock_.Now());
}

TEST_F(PgStoreTest, EnqueueBatchStoresEveryByteInOneStatement) {
  PgOutbox out(app_, &clock_);
  std::vector<Message> batch(3);
  const std::string tricky[] = {std::string("a\0b\"c\\d{},", 9), "",
                                "\xff\x00"};
  for (int i = 0; i < 3; ++i) {
    batch[i].topic = "orders";
    batch[i].key = "k\"" + std::to_string(i);
    batch[i].type = "t,{}";
    batch[i].payload = tricky[i];
    batch[i].headers["h\\"] = "v\"";
  }
  std::vector<Message> none;
  Exec("BEGIN");
  ASSERT_TRUE(out.EnqueueBatch(none).ok());
  absl::Status enq = out.EnqueueBatch(batch);
  ASSERT_TRUE(enq.ok()) << enq;
  Exec("COMMIT");
  auto claimed = store_->Claim("r", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ((*claimed)[i].id, batch[i].id);
    EXPECT_EQ((*claimed)[i].key, batch[i].key);
    EXPECT_EQ((*claimed)[i].type, "t,{}");
    EXPECT_EQ((*claimed)[i].payload, tricky[i]);
    EXPECT_EQ((*claimed)[i].headers, batch[i].headers);
  }
  EXPECT_EQ(out.EnqueueBatch(batch).code(),
            absl::StatusCode::kFailedPrecondition);
}

// Same-key transactions must take their sequence values in commit order:
// the enqueue holds a per-key advisory lock until the transaction ends, so
// a second producer of the same key waits, and one of another key does not.
TEST_F(PgStoreTest, SameKeyEnqueuesWaitForTheEarlierTransaction) {
  auto enqueue = [&](PGconn* c, const std::string& key) {
    PgOutbox out(c, &clock_);
    std::vector<Message> batch(2);
    for (Message& m : batch) {
      m.topic = "orders";
      m.key = key;
    }
    batch[1].key = "";  // the empty key takes no lock
    EXPECT_TRUE(out.EnqueueBatch(batch).ok());
    return batch[0].id;
  };
  PGconn* second = PQconnectdb(conninfo_.c_str());
  PGconn* other = PQconnectdb(conninfo_.c_str());
  ASSERT_EQ(PQstatus(second), CONNECTION_OK);
  ASSERT_EQ(PQstatus(other), CONNECTION_OK);
  Exec("BEGIN");
  std::string first_id = enqueue(app_, "k");
  // Another key goes through while the first transaction is open.
  ExecOk(other, "BEGIN");
  enqueue(other, "j");
  ExecOk(other, "COMMIT");
  std::string second_id;
  std::atomic<bool> done{false};
  std::thread t([&] {
    ExecOk(second, "BEGIN");
    second_id = enqueue(second, "k");
    done.store(true);
    ExecOk(second, "COMMIT");
  });
  // The second transaction waits on the key's advisory lock.
  int64_t waiting = 0;
  for (int i = 0; i < 500 && waiting == 0; ++i) {
    waiting = QueryInt(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT "
        "granted");
    if (waiting == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(waiting, 1);
  EXPECT_FALSE(done.load());
  Exec("COMMIT");
  t.join();
  EXPECT_TRUE(done.load());
  EXPECT_LT(
      QueryInt("SELECT seq FROM pantau_outbox WHERE id = '" + first_id + "'"),
      QueryInt("SELECT seq FROM pantau_outbox WHERE id = '" + second_id + "'"));
  PQfinish(second);
  PQfinish(other);
}

TEST_F(PgStoreTest, MigrationIsIdempotent) {
  EXPECT_TRUE(MigratePg(app_).ok());
  EXPECT_TRUE(MigratePg(app_).ok());
  EXPECT_EQ(QueryInt("SELECT value FROM pantau_outbox_meta"), kPgSchemaVersion);
}

TEST_F(PgStoreTest, TwoRelaysShareWorkAndKeepPerKeyOrder) {
  constexpr int kKeys = 20, kPerKey = 15;
  ASSERT_NO_FATAL_FAILURE(EnqueueInterleaved(kKeys, kPerKey));
  auto second = PgStore::Open(conninfo_);
  ASSERT_TRUE(second.ok());
  MemoryTransport transport;  // shared: records one global publish order
  RelayOptions o;
  o.batch_size = 7;
  o.relay_id = "a";
  Relay a(store_.get(), &transport, o, base::Clock::Real());
  o.relay_id = "b";
  Relay b(second->get(), &transport, o, base::Clock::Real());
  std::atomic<int> rounds_a{0}, rounds_b{0};
  auto drive = [&](Relay* r, std::atomic<int>* rounds) {
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (transport.published().size() < kKeys * kPerKey &&
           absl::Now() < deadline) {
      auto n = r->RunOnce();
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n > 0) ++*rounds;
    }
  };
  std::thread ta(drive, &a, &rounds_a), tb(drive, &b, &rounds_b);
  ta.join();
  tb.join();
  std::vector<Message> published = transport.published();
  ASSERT_EQ(published.size(), static_cast<size_t>(kKeys * kPerKey));
  std::map<std::string, int> next;
  for (const Message& m : published) {
    EXPECT_EQ(m.payload, std::to_string(next[m.key]++)) << "key " << m.key;
  }
  EXPECT_GT(rounds_a.load(), 0);
  EXPECT_GT(rounds_b.load(), 0);
  EXPECT_EQ(store_->Stats(absl::Now())->pending, 0);
}

// A relay's functions keep one plan per session (schema 6). A relay that
// planned them while the outbox was empty, and known to be empty since a
// VACUUM, kept a plan that read every message in the table for each row it
// claimed: with the delivered messages of the retention period there, a
// claim took 0.7 s. Schema 8: each claimed (or deleted) message is one
// probe of the seq key whatever the table held at planning time.
TEST_F(PgStoreTest, AClaimPlannedOnAnEmptyOutboxStillProbesEachMessage) {
  Exec("VACUUM pantau_outbox_message, pantau_outbox_pending");
  PGconn* relay = PQconnectdb(conninfo_.c_str());
  ASSERT_EQ(PQstatus(relay), CONNECTION_OK);
  // The relay's session plans both functions with nothing to do.
  ExecOk(relay, "BEGIN");
  EXPECT_EQ(ClaimThroughFunction(relay), 0);
  ExecOk(relay, "SELECT pantau_outbox_complete(0, '{}', false)");
  ExecOk(relay, "COMMIT");
  // Then 2000 messages are delivered and kept, and 100 more wait.
  auto enqueue = [&](int n) {
    PgOutbox out(app_, &clock_);
    std::vector<Message> batch(n);
    for (int i = 0; i < n; ++i) {
      batch[i].topic = "orders";
      batch[i].key = absl::StrCat("k", i % 50);
      batch[i].payload = std::string(200, 'x');
    }
    Exec("BEGIN");
    ASSERT_TRUE(out.EnqueueBatch(batch).ok());
    Exec("COMMIT");
  };
  ASSERT_NO_FATAL_FAILURE(enqueue(2000));
  Exec(
      "SELECT pantau_outbox_complete(1, ARRAY(SELECT seq FROM "
      "pantau_outbox_pending), true)");
  ASSERT_NO_FATAL_FAILURE(enqueue(100));
  // Index entries of the message key read by this transaction so far.
  auto entries_read = [&] {
    return outbox::QueryInt(relay,
                            "SELECT pg_stat_get_xact_tuples_returned("
                            "'pantau_outbox_message_pkey'::regclass)");
  };
  ExecOk(relay, "BEGIN");
  EXPECT_EQ(ClaimThroughFunction(relay), 100);
  int64_t claimed = entries_read();
  EXPECT_LE(claimed, 200) << "the claim scanned the messages";
  // Retention zero: the delivered messages are deleted by key as well.
  ExecOk(relay,
         "SELECT pantau_outbox_complete(1, ARRAY(SELECT seq FROM "
         "pantau_outbox_pending), false)");
  EXPECT_LE(entries_read() - claimed, 200)
      << "the delivery scanned the messages";
  ExecOk(relay, "COMMIT");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_outbox_message"), 2000);
  PQfinish(relay);
}

// Every delivery deletes a pending row, and autovacuum comes at most once
// a minute: a claim's walk of the pending key from its lowest seq passed
// every entry deleted since (at 10k msg/s up to 600k, 2.5 ms a walk). The
// relay vacuums the table itself every kPgVacuumEvery rows.
TEST_F(PgStoreTest, ARelayVacuumsThePendingRowsItDelivered) {
  Exec("ALTER TABLE pantau_outbox_pending SET (autovacuum_enabled = false)");
  constexpr int kMessages = 3 * kPgVacuumEvery + kPgVacuumEvery / 2;
  PgOutbox out(app_, &clock_);
  for (int done = 0; done < kMessages; done += 1000) {
    std::vector<Message> batch(1000);
    for (Message& m : batch) {
      m.topic = "orders";
      m.key = absl::StrCat("k", done % 97);
      m.payload = "x";
    }
    Exec("BEGIN");
    ASSERT_TRUE(out.EnqueueBatch(batch).ok());
    Exec("COMMIT");
  }
  int delivered = 0;
  while (delivered < kMessages) {
    auto batch = store_->Claim("a", 512, clock_.Now(), absl::Seconds(30));
    ASSERT_TRUE(batch.ok()) << batch.status();
    ASSERT_FALSE(batch->empty());
    std::vector<Outcome> outcomes;
    for (const Message& m : *batch) {
      outcomes.push_back({.id = m.id, .delivered = true});
    }
    ASSERT_TRUE(store_->Complete("a", outcomes, clock_.Now()).ok());
    delivered += static_cast<int>(batch->size());
  }
  for (int i = 0; i < 100; ++i) Enqueue("late", absl::StrCat("late", i));
  // The index pages a claim of the late messages reads: a walk of what was
  // deleted since the relay's last VACUUM, not of all 35000.
  PGconn* relay = PQconnectdb(conninfo_.c_str());
  ASSERT_EQ(PQstatus(relay), CONNECTION_OK);
  ExecOk(relay, "BEGIN");
  EXPECT_EQ(ClaimThroughFunction(relay), 100);
  EXPECT_LT(outbox::QueryInt(relay,
                             "SELECT pg_stat_get_xact_blocks_fetched("
                             "'pantau_outbox_pending_pkey'::regclass)"),
            50);
  ExecOk(relay, "COMMIT");
  PQfinish(relay);
}

TEST_F(PgStoreTest, CleanupDeletesAChunkAtATime) {
  ASSERT_NO_FATAL_FAILURE(EnqueueInterleaved(5, 5));
  auto batch = store_->Claim("a", 100, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->size(), 25u);
  std::vector<Outcome> outcomes;
  for (const Message& m : *batch) {
    outcomes.push_back({.id = m.id, .delivered = true});
  }
  ASSERT_TRUE(store_->Complete("a", outcomes, clock_.Now()).ok());
  absl::Time later = clock_.Now() + absl::Seconds(1);
  EXPECT_EQ(*store_->CleanupDelivered(later, 10), 10);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_outbox_message"), 15);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_outbox_delivered"), 15);
  EXPECT_EQ(*store_->CleanupDelivered(later, 10), 10);
  EXPECT_EQ(*store_->CleanupDelivered(later, 10), 5);
  EXPECT_EQ(*store_->CleanupDelivered(later, 10), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_outbox_message"), 0);

  PgInbox inbox(app_, "billing", &clock_);
  auto ok = [](PGconn*, const Message&) { return absl::OkStatus(); };
  for (int i = 0; i < 7; ++i) {
    Message m;
    m.id = NewMessageId();
    ASSERT_TRUE(inbox.Process(m, ok).ok());
  }
  EXPECT_EQ(*store_->CleanupInbox(later, 3), 3);
  EXPECT_EQ(*store_->CleanupInbox(later, 3), 3);
  EXPECT_EQ(*store_->CleanupInbox(later, 3), 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_inbox"), 0);
}

// Services often run with a role that may read and write the outbox
// tables but not create anything; the schema is migrated by its owner.
// Opening a store with such a role used to fail on the migration's
// CREATE TABLE IF NOT EXISTS even with the schema current.
TEST_F(PgStoreTest, ARoleWithOnlyDataPrivilegesProducesAndRelays) {
  Exec(
      "DO $$ BEGIN CREATE ROLE pantau_test_dml LOGIN; "
      "EXCEPTION WHEN duplicate_object THEN NULL; END $$");
  Exec("REVOKE CREATE ON SCHEMA public FROM PUBLIC");
  Exec(
      "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public "
      "TO pantau_test_dml");
  Exec("GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO pantau_test_dml");
  // libpq takes the last value given for a keyword.
  std::string as_dml = conninfo_ + " user=pantau_test_dml";
  auto relay_store = PgStore::Open(as_dml);
  ASSERT_TRUE(relay_store.ok()) << relay_store.status();
  PGconn* app = PQconnectdb(as_dml.c_str());
  ASSERT_EQ(PQstatus(app), CONNECTION_OK);
  // The schema is current: nothing to create, nothing refused.
  EXPECT_TRUE(MigratePg(app).ok());
  PgOutbox out(app, &clock_);
  ExecOk(app, "BEGIN");
  Message m;
  m.topic = "orders";
  m.key = "k";
  m.payload = "from a data-only role";
  ASSERT_TRUE(out.Enqueue(m).ok());
  ExecOk(app, "COMMIT");
  PQfinish(app);
  MemoryTransport transport;
  Relay relay(relay_store->get(), &transport, RelayOptions{},
              base::Clock::Real());
  auto n = relay.RunOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 1);
  ASSERT_EQ(transport.published().size(), 1u);
  EXPECT_EQ(transport.published()[0].payload, "from a data-only role");
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_outbox WHERE state = 1"), 1);
}

TEST_F(PgStoreTest, ClaimHoldsRowsUntilCompleteAndARelayThatDiesLetsGo) {
  std::string id = Enqueue("k", "m1");
  auto second = PgStore::Open(conninfo_);
  ASSERT_TRUE(second.ok()) << second.status();
  auto mine = store_->Claim("a", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(mine.ok()) << mine.status();
  ASSERT_EQ(mine->size(), 1u);
  auto theirs = (*second)->Claim("b", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_TRUE(theirs->empty()) << "a claimed row went to a second relay";
  // The first relay dies mid-round: its connection, and the claim, go.
  store_.reset();
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    theirs = (*second)->Claim("b", 10, clock_.Now(), absl::Seconds(30));
    ASSERT_TRUE(theirs.ok()) << theirs.status();
  } while (theirs->empty() && absl::Now() < deadline);
  ASSERT_EQ(theirs->size(), 1u);
  EXPECT_EQ((*theirs)[0].id, id);
  // Retention zero: the delivered row is deleted at once.
  (*second)->SetKeepDelivered(false);
  ASSERT_TRUE((*second)
                  ->Complete("b", {{.id = id, .delivered = true}}, clock_.Now())
                  .ok());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_outbox"), 0);
}

TEST_F(PgStoreTest, TwoStoresClaimingAtOnceNeverShareAKey) {
  constexpr int kKeys = 40, kPerKey = 5;
  ASSERT_NO_FATAL_FAILURE(EnqueueInterleaved(kKeys, kPerKey));
  auto second = PgStore::Open(conninfo_);
  ASSERT_TRUE(second.ok()) << second.status();
  // Both claims stay open (uncompleted) at the same time.
  auto a = store_->Claim("a", 30, clock_.Now(), absl::Seconds(30));
  auto b = (*second)->Claim("b", 30, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_FALSE(a->empty());
  EXPECT_FALSE(b->empty()) << "the first claim took every partition";
  std::map<std::string, int> next_a, next_b;
  for (const Message& m : *a) {
    // Each key's messages from its head on, in order.
    EXPECT_EQ(m.payload, std::to_string(next_a[m.key]++)) << m.key;
  }
  for (const Message& m : *b) {
    EXPECT_EQ(m.payload, std::to_string(next_b[m.key]++)) << m.key;
    EXPECT_FALSE(next_a.contains(m.key)) << "both claims hold key " << m.key;
  }
}

TEST_F(PgStoreTest, ASecondRelayTakesNewWorkWhileTheFirstHoldsABatch) {
  // A claim keeps a partition only when it has work there, so a message
  // arriving while a batch is out goes to an idle relay instead of waiting
  // for the busy one's next round.
  auto part = [&](const std::string& key) {
    return QueryInt("SELECT (hashtext('" + key + "') & 2147483647) % " +
                    std::to_string(kPgPartitions));
  };
  std::vector<std::string> keys;
  for (int i = 0; keys.size() < 2; ++i) {
    std::string k = "k" + std::to_string(i);
    if (part(k) >= kPgPartitions / 2 &&
        (keys.empty() || part(k) != part(keys[0]))) {
      keys.push_back(k);
    }
  }
  Enqueue(keys[0], "first");
  auto a = store_->Claim("a", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 1u);
  Enqueue(keys[1], "second");
  auto second = PgStore::Open(conninfo_);
  ASSERT_TRUE(second.ok()) << second.status();
  auto b = (*second)->Claim("b", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_EQ(b->size(), 1u);
  EXPECT_EQ((*b)[0].payload, "second");
}

TEST_F(PgStoreTest, AFailedMessageHoldsBackOnlyItsOwnKeyInItsPartition) {
  // Two keys of one partition: the partition is claimed as a whole, the
  // hold-back must still be per key.
  auto part = [&](const std::string& key) {
    return QueryInt("SELECT (hashtext('" + key + "') & 2147483647) % " +
                    std::to_string(kPgPartitions));
  };
  std::string x = "x", y;
  for (int i = 0; y.empty(); ++i) {
    if (part("y" + std::to_string(i)) == part(x)) y = "y" + std::to_string(i);
  }
  std::string x1 = Enqueue(x, "x1");
  Enqueue(y, "y1");
  Enqueue(x, "x2");
  Enqueue(y, "y2");
  auto c = store_->Claim("r", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 4u);
  std::vector<Outcome> done;
  for (const Message& m : *c) {
    Outcome o{.id = m.id};
    if (m.payload == "x1") {
      o.error = "down";
      o.next_attempt_at = clock_.Now() + absl::Seconds(10);
    } else if (m.payload == "x2") {
      o.skipped = true;
    } else {
      o.delivered = true;
    }
    done.push_back(o);
  }
  ASSERT_TRUE(store_->Complete("r", done, clock_.Now()).ok());
  Enqueue(y, "y3");
  Enqueue(x, "x3");
  c = store_->Claim("r", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->size(), 1u);
  EXPECT_EQ((*c)[0].payload, "y3");
  ASSERT_TRUE(
      store_
          ->Complete("r", {{.id = (*c)[0].id, .delivered = true}}, clock_.Now())
          .ok());
  clock_.Advance(absl::Seconds(10));
  c = store_->Claim("r", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(c.ok()) << c.status();
  std::vector<std::string> got;
  for (const Message& m : *c) got.push_back(m.payload);
  EXPECT_EQ(got, (std::vector<std::string>{"x1", "x2", "x3"}));
  EXPECT_EQ((*c)[0].id, x1);
  EXPECT_EQ((*c)[0].attempts, 1);
  EXPECT_EQ((*c)[0].last_error, "down");
}

TEST_F(PgStoreTest, NotifyWakesAnIdleRelay) {
  // Drain any notification from setup first.
  ASSERT_TRUE(store_->WaitForWork(absl::Milliseconds(1)).ok());
  std::thread producer([&] {
    absl::SleepFor(absl::Milliseconds(100));
    Enqueue("k", "wake");
  });
  absl::Time start = absl::Now();
  ASSERT_TRUE(store_->WaitForWork(absl::Seconds(20)).ok());
  producer.join();
  EXPECT_LT(absl::Now() - start, absl::Seconds(10))
      << "WaitForWork returned on its timeout, not on NOTIFY";
}

TEST_F(PgStoreTest, FailuresBackOffThenDeadLetterAndReplay) {
  std::string id = Enqueue("k", "m1");
  MemoryTransport transport;
  transport.SetPublishHook(
      [](const Message&) { return absl::UnavailableError("down"); });
  RelayOptions o;
  o.relay_id = "r";
  o.max_attempts = 2;
  o.jitter = 0;
  o.backoff_initial = absl::Seconds(1);
  Relay relay(store_.get(), &transport, o, &clock_);
  ASSERT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(*relay.RunOnce(), 0);
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(*relay.RunOnce(), 1);
  auto dead = store_->ListDead(10, "");
  ASSERT_TRUE(dead.ok()) << dead.status();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, id);
  EXPECT_EQ((*dead)[0].attempts, 2);
  EXPECT_EQ((*dead)[0].last_error, "down");
  EXPECT_FALSE(store_->ListDead(10, "not-a-uuid").ok());
  EXPECT_FALSE(store_->Replay({"bad"}, clock_.Now()).ok());
  EXPECT_EQ(*store_->Replay({}, clock_.Now()), 1);
  transport.SetPublishHook(nullptr);
  ASSERT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(transport.published().size(), 1u);
  clock_.Advance(absl::Hours(25));
  EXPECT_EQ(*store_->CleanupDelivered(clock_.Now() - absl::Hours(24), 1000), 1);
}

TEST_F(PgStoreTest, InboxSkipsDuplicatesAndRollsBackFailures) {
  PgInbox inbox(app_, "billing", &clock_);
  Message m;
  m.id = NewMessageId();
  m.payload = "x1";
  auto insert = [](PGconn* c, const Message& msg) -> absl::Status {
    std::string sql = "INSERT INTO orders VALUES ('" + msg.payload + "')";
    PGresult* r = PQexec(c, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? absl::OkStatus() : absl::InternalError(PQerrorMessage(c));
  };
  auto failing = [&](PGconn* c, const Message& msg) -> absl::Status {
    insert(c, msg).IgnoreError();
    return absl::UnavailableError("downstream");
  };
  EXPECT_FALSE(inbox.Process(m, failing).ok());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM orders"), 0);
  EXPECT_EQ(*inbox.Process(m, insert), InboxResult::kProcessed);
  EXPECT_EQ(*inbox.Process(m, insert), InboxResult::kDuplicate);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM orders"), 1);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(*store_->CleanupInbox(clock_.Now() - absl::Minutes(30), 1000), 1);
}

TEST_F(PgStoreTest, InboxBatchRecordsAllIdsInOneTransaction) {
  PgInbox inbox(app_, "billing", &clock_);
  Message a, b;
  a.id = NewMessageId();
  a.payload = "a";
  b.id = NewMessageId();
  b.payload = "b";
  auto insert = [](PGconn* c, const Message& msg) -> absl::Status {
    std::string sql = "INSERT INTO orders VALUES ('" + msg.payload + "')";
    PGresult* r = PQexec(c, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? absl::OkStatus() : absl::InternalError(PQerrorMessage(c));
  };
  ASSERT_EQ(*inbox.Process(a, insert), InboxResult::kProcessed);
  auto r = inbox.ProcessBatch({&a, &b, &b}, insert);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (std::vector<InboxResult>{InboxResult::kDuplicate,
                                          InboxResult::kProcessed,
                                          InboxResult::kDuplicate}));
  EXPECT_EQ(QueryInt("SELECT count(*) FROM orders"), 2);
  // A failing handler rolls back every record of the batch.
  Message c, d;
  c.id = NewMessageId();
  c.payload = "c";
  d.id = NewMessageId();
  d.payload = "b";  // duplicate key in orders: the handler fails
  EXPECT_FALSE(inbox.ProcessBatch({&c, &d}, insert).ok());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM orders"), 2);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_inbox"), 2);
}

TEST_F(PgStoreTest, InboxBatchHandlerSeesOnlyFreshMessagesOnce) {
  PgInbox inbox(app_, "billing", &clock_);
  Message a, b, c;
  for (auto [m, p] : {std::pair{&a, "a"}, {&b, "b"}, {&c, "c"}}) {
    m->id = NewMessageId();
    m->payload = p;
  }
  // Another transport's ids need not be UUIDs: array syntax in one is
  // just bytes.
  c.id = "ext-{1,\"2\"}\\";
  int calls = 0;
  // One statement for all effects of the batch.
  auto insert_all = [&](PGconn* conn,
                        const std::vector<const Message*>& ms) -> absl::Status {
    ++calls;
    std::string sql = "INSERT INTO orders VALUES ";
    for (size_t i = 0; i < ms.size(); ++i) {
      sql += (i > 0 ? ",('" : "('") + ms[i]->payload + "')";
    }
    PGresult* r = PQexec(conn, sql.c_str());
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    return ok ? absl::OkStatus() : absl::InternalError(PQerrorMessage(conn));
  };
  auto first = inbox.ProcessBatch({&a}, insert_all);
  ASSERT_TRUE(first.ok()) << first.status();
  auto r = inbox.ProcessBatch({&a, &b, &c, &b}, insert_all);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, (std::vector<InboxResult>{
                    InboxResult::kDuplicate, InboxResult::kProcessed,
                    InboxResult::kProcessed, InboxResult::kDuplicate}));
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM orders"), 3);
  // Only duplicates: the handler does not run.
  ASSERT_TRUE(inbox.ProcessBatch({&b, &c}, insert_all).ok());
  EXPECT_EQ(calls, 2);
  // A failing handler rolls back the records of the whole batch.
  Message d, e;
  d.id = NewMessageId();
  d.payload = "d";
  e.id = NewMessageId();
  e.payload = "a";  // duplicate key in orders: the statement fails
  EXPECT_FALSE(inbox.ProcessBatch({&d, &e}, insert_all).ok());
  EXPECT_EQ(QueryInt("SELECT count(*) FROM orders"), 3);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_inbox"), 3);
}

// A batch is first recorded with a plain insert; only the inbox's own
// unique violation sends it round again. A handler that fails with a
// unique violation in its tables (AlreadyExists) fails the batch once:
// it is not run a second time as if its messages were duplicates.
TEST_F(PgStoreTest, InboxBatchHandlerConflictIsNotTakenForADuplicate) {
  PgInbox inbox(app_, "billing", &clock_);
  Message a, b;
  a.id = NewMessageId();
  b.id = NewMessageId();
  int calls = 0;
  auto conflicting =
      [&](PGconn*, const std::vector<const Message*>& ms) -> absl::Status {
    ++calls;
    EXPECT_EQ(ms.size(), 2u);
    return absl::AlreadyExistsError("orders: duplicate key");
  };
  auto r = inbox.ProcessBatch({&a, &b}, conflicting);
  EXPECT_TRUE(absl::IsAlreadyExists(r.status())) << r.status();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM pantau_inbox"), 0);
  // Both are still new to the inbox.
  auto ok = inbox.ProcessBatch({&a, &b},
                               [](PGconn*, const std::vector<const Message*>&) {
                                 return absl::OkStatus();
                               });
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(*ok, (std::vector<InboxResult>{InboxResult::kProcessed,
                                           InboxResult::kProcessed}));
}

// A database written by the version 1 library (one wide row per message)
// with messages in every state: the upgrade keeps the pending ones, in
// their order, with their retry state, and the delivered and dead ones;
// the sequence goes on after them.
TEST(PgStore, MigratesAVersion1DatabaseKeepingPendingRowsInOrder) {
  auto pg = testing::SharedPostgres();
  if (!pg.ok()) GTEST_SKIP() << "no PostgreSQL: " << pg.status();
  auto db = (*pg)->NewDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  PGconn* c = PQconnectdb(db->c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK);
  auto exec = [&](const std::string& sql) { ExecOk(c, sql); };
  auto query_int = [&](const std::string& sql) { return QueryInt(c, sql); };
  // The version 1 schema, as MigratePg created it.
  exec(R"sql(
CREATE TABLE pantau_outbox_meta (name TEXT PRIMARY KEY, value INT NOT NULL);
INSERT INTO pantau_outbox_meta VALUES ('schema', 1);
CREATE TABLE pantau_outbox (seq BIGSERIAL PRIMARY KEY,
  id UUID NOT NULL UNIQUE, topic TEXT NOT NULL, key TEXT NOT NULL,
  type TEXT NOT NULL, payload BYTEA NOT NULL, headers TEXT NOT NULL,
  created_at BIGINT NOT NULL, attempts INT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '',
  state SMALLINT NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',
  lease_until BIGINT NOT NULL DEFAULT 0, delivered_at BIGINT);
CREATE INDEX pantau_outbox_pending ON pantau_outbox(seq) WHERE state = 0;
CREATE INDEX pantau_outbox_key ON pantau_outbox(key, seq) WHERE state = 0;
CREATE INDEX pantau_outbox_delivered ON pantau_outbox(delivered_at)
  WHERE state = 1;
CREATE TABLE pantau_inbox (consumer TEXT NOT NULL, message_id TEXT NOT NULL,
  processed_at BIGINT NOT NULL, PRIMARY KEY (consumer, message_id));
CREATE INDEX pantau_inbox_processed ON pantau_inbox(processed_at);
CREATE OR REPLACE FUNCTION pantau_outbox_notify() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pantau_outbox', '');
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER pantau_outbox_notify AFTER INSERT ON pantau_outbox
  FOR EACH STATEMENT EXECUTE FUNCTION pantau_outbox_notify();
)sql");
  struct Row {
    int seq;
    const char* id;
    const char* key;
    int state, attempts;
    int64_t next_attempt_at;
    const char* error;
    int64_t delivered_at;
  };
  const Row rows[] = {
      {1, "00000000-0000-7000-8000-000000000001", "a", 1, 1, 0, "", 50000},
      {2, "00000000-0000-7000-8000-000000000002", "b", 2, 5, 90000, "gone", 0},
      {3, "00000000-0000-7000-8000-000000000003", "a", 0, 2, 0, "flaky", 0},
      {5, "00000000-0000-7000-8000-000000000005", "c", 0, 0, 0, "", 0},
      {4, "00000000-0000-7000-8000-000000000004", "a", 0, 0, 0, "", 0},
      {6, "00000000-0000-7000-8000-000000000006", "d", 0, 1, 200000, "later",
       0},
      {7, "00000000-0000-7000-8000-000000000007", "d", 0, 0, 0, "", 0},
  };
  for (const Row& r : rows) {
    exec(absl::StrCat(
        "INSERT INTO pantau_outbox (seq, id, topic, key, type, payload, "
        "headers, created_at, attempts, next_attempt_at, last_error, state, "
        "delivered_at) VALUES (",
        r.seq, ", '", r.id, "', 'orders', '", r.key, "', 't', 'p", r.seq,
        "', '{\"h\":\"", r.seq, "\"}', ", 1000 * r.seq, ", ", r.attempts, ", ",
        r.next_attempt_at, ", '", r.error, "', ", r.state, ", ",
        r.delivered_at > 0 ? absl::StrCat(r.delivered_at) : "NULL", ")"));
  }
  exec("SELECT setval('pantau_outbox_seq_seq', 7)");

  auto store = PgStore::Open(*db);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(query_int("SELECT value FROM pantau_outbox_meta"),
            kPgSchemaVersion);
  // The view keeps every v1 column for queries and tools.
  EXPECT_EQ(query_int("SELECT count(*) FROM (SELECT seq, id, topic, key, "
                      "type, payload, headers, created_at, attempts, "
                      "next_attempt_at, last_error, state, lease_owner, "
                      "lease_until, delivered_at FROM pantau_outbox) v"),
            7);
  EXPECT_EQ(query_int("SELECT count(*) FROM pantau_outbox WHERE state = 0"), 5);
  EXPECT_TRUE(MigratePg(c).ok());  // again: nothing changes

  absl::Time now = absl::FromUnixMillis(100000);
  auto st = (*store)->Stats(now);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->pending, 5);
  EXPECT_EQ(st->dead, 1);
  EXPECT_EQ(st->oldest_pending, absl::FromUnixMillis(3000));

  auto claimed = (*store)->Claim("r", 10, now, absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  std::vector<std::string> got;
  for (const Message& m : *claimed) got.push_back(m.payload);
  EXPECT_EQ(got, (std::vector<std::string>{"p3", "p4", "p5"}));
  ASSERT_FALSE(claimed->empty());
  EXPECT_EQ((*claimed)[0].id, rows[2].id);
  EXPECT_EQ((*claimed)[0].attempts, 2);
  EXPECT_EQ((*claimed)[0].last_error, "flaky");
  EXPECT_EQ((*claimed)[0].headers.at("h"), "3");
  std::vector<Outcome> done;
  for (const Message& m : *claimed) {
    done.push_back({.id = m.id, .delivered = true});
  }
  ASSERT_TRUE((*store)->Complete("r", done, now).ok());
  auto later =
      (*store)->Claim("r", 10, absl::FromUnixMillis(200000), absl::Seconds(30));
  ASSERT_TRUE(later.ok()) << later.status();
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[0].payload, "p6");
  EXPECT_EQ((*later)[0].attempts, 1);
  EXPECT_EQ((*later)[1].payload, "p7");
  ASSERT_TRUE((*store)
                  ->Complete("r",
                             {{.id = (*later)[0].id, .skipped = true},
                              {.id = (*later)[1].id, .skipped = true}},
                             now)
                  .ok());

  auto dead = (*store)->ListDead(10, "");
  ASSERT_TRUE(dead.ok()) << dead.status();
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, rows[1].id);
  EXPECT_EQ((*dead)[0].attempts, 5);
  EXPECT_EQ((*dead)[0].last_error, "gone");

  EXPECT_EQ(*(*store)->CleanupDelivered(absl::FromUnixMillis(50000), 1000), 0);
  EXPECT_EQ(*(*store)->CleanupDelivered(absl::FromUnixMillis(50001), 1000), 1);

  // New messages get seqs after everything migrated.
  PgOutbox out(c);
  exec("BEGIN");
  Message m;
  m.topic = "orders";
  m.key = "a";
  m.payload = "new";
  ASSERT_TRUE(out.Enqueue(m).ok());
  exec("COMMIT");
  EXPECT_EQ(query_int("SELECT max(seq) FROM pantau_outbox"), 8);
  PQfinish(c);
}

TEST(PgStore, MigratesAVersion2DatabaseToPartitionsKeepingEverySeq) {
  auto pg = testing::SharedPostgres();
  if (!pg.ok()) GTEST_SKIP() << "no PostgreSQL: " << pg.status();
  auto db = (*pg)->NewDatabase();
  ASSERT_TRUE(db.ok()) << db.status();
  PGconn* c = PQconnectdb(db->c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK);
  auto exec = [&](const std::string& sql) { ExecOk(c, sql); };
  auto query_int = [&](const std::string& sql) { return QueryInt(c, sql); };
  // The version 2 schema, as MigratePg left it.
  exec(R"sql(
CREATE TABLE pantau_outbox_meta (name TEXT PRIMARY KEY, value INT NOT NULL);
INSERT INTO pantau_outbox_meta VALUES ('schema', 2);
CREATE SEQUENCE pantau_outbox_seq_seq;
CREATE TABLE pantau_outbox_message (
  seq BIGINT PRIMARY KEY DEFAULT nextval('pantau_outbox_seq_seq'),
  id UUID NOT NULL UNIQUE, topic TEXT NOT NULL, key TEXT NOT NULL,
  type TEXT NOT NULL, payload BYTEA NOT NULL, headers TEXT NOT NULL,
  created_at BIGINT NOT NULL);
ALTER SEQUENCE pantau_outbox_seq_seq OWNED BY pantau_outbox_message.seq;
CREATE TABLE pantau_outbox_pending (seq BIGINT PRIMARY KEY,
  key TEXT NOT NULL, attempts INT NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL, last_error TEXT NOT NULL DEFAULT '',
  lease_until BIGINT NOT NULL DEFAULT 0);
CREATE INDEX pantau_outbox_pending_key ON pantau_outbox_pending(key, seq);
CREATE TABLE pantau_outbox_delivered (seq BIGINT PRIMARY KEY,
  delivered_at BIGINT NOT NULL);
CREATE INDEX pantau_outbox_delivered_at
  ON pantau_outbox_delivered(delivered_at);
CREATE TABLE pantau_outbox_dead (seq BIGINT PRIMARY KEY,
  attempts INT NOT NULL, last_error TEXT NOT NULL, dead_at BIGINT NOT NULL);
CREATE TABLE pantau_inbox (consumer TEXT NOT NULL, message_id TEXT NOT NULL,
  processed_at BIGINT NOT NULL, PRIMARY KEY (consumer, message_id));
CREATE INDEX pantau_inbox_processed ON pantau_inbox(processed_at);
CREATE OR REPLACE FUNCTION pantau_outbox_notify() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('pantau_outbox', '');
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER pantau_outbox_notify
  AFTER INSERT ON pantau_outbox_pending
  FOR EACH STATEMENT EXECUTE FUNCTION pantau_outbox_notify();
CREATE VIEW pantau_outbox AS
  SELECT m.seq, m.id, m.topic, m.key, m.type, m.payload, m.headers,
         m.created_at,
         coalesce(p.attempts, x.attempts) AS attempts,
         coalesce(p.next_attempt_at, x.dead_at) AS next_attempt_at,
         coalesce(p.last_error, x.last_error, '') AS last_error,
         (CASE WHEN p.seq IS NOT NULL THEN 0
               WHEN d.seq IS NOT NULL THEN 1
               WHEN x.seq IS NOT NULL THEN 2 END)::smallint AS state,
         ''::text AS lease_owner, coalesce(p.lease_until, 0) AS lease_until,
         d.delivered_at
  FROM pantau_outbox_message m
  LEFT JOIN pantau_outbox_pending p ON p.seq = m.seq
  LEFT JOIN pantau_outbox_delivered d ON d.seq = m.seq
  LEFT JOIN pantau_outbox_dead x ON x.seq = m.seq;
)sql");
  const char* keys[] = {"", "a", "a", "b", "b", "a", "c", "d"};
  for (int seq = 1; seq <= 7; ++seq) {
    exec(absl::StrCat("INSERT INTO pantau_outbox_message VALUES (", seq,
                      ", '00000000-0000-7000-8000-00000000000", seq,
                      "', 'orders', '", keys[seq], "', 't', 'p", seq,
                      "', '{}', ", 1000 * seq, ")"));
  }
  exec("SELECT setval('pantau_outbox_seq_seq', 7)");
  exec("INSERT INTO pantau_outbox_delivered VALUES (1, 5000)");
  exec("INSERT INTO pantau_outbox_dead VALUES (7, 5, 'gone', 6000)");
  const std::string seen_id = "00000000-0000-7000-8000-0000000000aa";
  exec("INSERT INTO pantau_inbox VALUES ('billing', '" + seen_id + "', 4000)");
  // seq 3 leased by a version 1 relay until 150000; seq 6 waits for its
  // retry until 200000.
  exec(
      "INSERT INTO pantau_outbox_pending (seq, key, attempts, "
      "next_attempt_at, last_error, lease_until) VALUES "
      "(2, 'a', 1, 0, 'flaky', 0), (3, 'b', 0, 0, '', 150000), "
      "(4, 'b', 0, 0, '', 0), (5, 'a', 0, 0, '', 0), "
      "(6, 'c', 2, 200000, 'later', 0)");

  auto store = PgStore::Open(*db);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_EQ(query_int("SELECT value FROM pantau_outbox_meta"),
            kPgSchemaVersion);
  EXPECT_EQ(query_int("SELECT count(*) FROM pantau_outbox_partition"),
            kPgPartitions);
  EXPECT_EQ(query_int("SELECT count(*) FROM pantau_outbox_pending WHERE "
                      "part = (hashtext(key) & 2147483647) % " +
                      std::to_string(kPgPartitions)),
            5);
  EXPECT_EQ(query_int("SELECT count(*) FROM pg_indexes WHERE indexname = "
                      "'pantau_outbox_pending_key'"),
            0);
  EXPECT_EQ(query_int("SELECT count(*) FROM pantau_outbox WHERE state = 0"), 5);
  EXPECT_EQ(query_int("SELECT lease_until FROM pantau_outbox WHERE seq = 3"),
            150000);
  // A version 2 relay still running names lease_until in its claim: it
  // fails instead of locking rows beside a partition claim.
  PGresult* old_claim =
      PQexec(c,
             "SELECT o.seq FROM pantau_outbox_pending o WHERE "
             "o.lease_until <= 0 ORDER BY o.seq LIMIT 1 FOR UPDATE OF o "
             "SKIP LOCKED");
  EXPECT_EQ(PQresultStatus(old_claim), PGRES_FATAL_ERROR);
  PQclear(old_claim);
  EXPECT_TRUE(MigratePg(c).ok());  // again: nothing changes

  // Version 5: the delivered row and the inbox record came through the
  // new indexes (BRIN, byte-order inbox key) and still do their work.
  EXPECT_EQ(query_int("SELECT count(*) FROM pg_indexes WHERE indexdef LIKE "
                      "'%USING brin%' AND tablename IN "
                      "('pantau_outbox_delivered', 'pantau_inbox')"),
            2);
  EXPECT_EQ(query_int("SELECT count(*) FROM information_schema.columns "
                      "WHERE table_name = 'pantau_inbox' AND "
                      "collation_name = 'C'"),
            2);
  EXPECT_EQ(query_int("SELECT delivered_at FROM pantau_outbox WHERE seq = 1 "
                      "AND state = 1"),
            5000);
  // Version 8: no VACUUM of the pending rows takes the table's exclusive
  // lock to give back its trailing pages.
  EXPECT_EQ(query_int("SELECT count(*) FROM pg_class WHERE relname = "
                      "'pantau_outbox_pending' AND "
                      "'vacuum_truncate=false' = ANY(reloptions)"),
            1);
  {
    PgInbox inbox(c, "billing");
    Message again;
    again.id = seen_id;
    auto r = inbox.Process(
        again, [](PGconn*, const Message&) { return absl::OkStatus(); });
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(*r, InboxResult::kDuplicate);
  }
  EXPECT_EQ(*(*store)->CleanupInbox(absl::FromUnixMillis(4001), 1000), 1);
  EXPECT_EQ(*(*store)->CleanupDelivered(absl::FromUnixMillis(5001), 1000), 1);
  EXPECT_EQ(query_int("SELECT count(*) FROM pantau_outbox WHERE seq = 1"), 0);

  auto payloads = [](const std::vector<Message>& batch) {
    std::vector<std::string> got;
    for (const Message& m : batch) got.push_back(m.payload);
    return got;
  };
  auto claimed =
      (*store)->Claim("r", 10, absl::FromUnixMillis(100000), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  // b waits for the version 1 lease, c for its retry.
  EXPECT_EQ(payloads(*claimed), (std::vector<std::string>{"p2", "p5"}));
  ASSERT_FALSE(claimed->empty());
  EXPECT_EQ((*claimed)[0].attempts, 1);
  EXPECT_EQ((*claimed)[0].last_error, "flaky");
  std::vector<Outcome> done;
  for (const Message& m : *claimed) {
    done.push_back({.id = m.id, .delivered = true});
  }
  ASSERT_TRUE((*store)->Complete("r", done, absl::FromUnixMillis(100000)).ok());
  claimed =
      (*store)->Claim("r", 10, absl::FromUnixMillis(150000), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  EXPECT_EQ(payloads(*claimed), (std::vector<std::string>{"p3", "p4"}));
  ASSERT_TRUE((*store)->Complete("r", {}, absl::FromUnixMillis(150000)).ok());

  // New messages get seqs after everything migrated, and a partition.
  PgOutbox out(c);
  exec("BEGIN");
  Message m;
  m.topic = "orders";
  m.key = "b";
  m.payload = "new";
  ASSERT_TRUE(out.Enqueue(m).ok());
  exec("COMMIT");
  EXPECT_EQ(query_int("SELECT max(seq) FROM pantau_outbox"), 8);
  EXPECT_EQ(query_int("SELECT part FROM pantau_outbox_pending WHERE seq = 8"),
            query_int("SELECT part FROM pantau_outbox_pending WHERE seq = 3"));
  PQfinish(c);
}

TEST(PgStore, OpenFailsCleanlyWhenNothingListens) {
  int port = testing::FreePort();
  auto s = PgStore::Open("host=127.0.0.1 port=" + std::to_string(port) +
                         " connect_timeout=2 user=postgres");
  EXPECT_EQ(s.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace pantau::outbox
