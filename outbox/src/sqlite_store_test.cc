#include "pantau/outbox/sqlite_store.h"

#include <sqlite3.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pantau/outbox/memory_transport.h"
#include "pantau/outbox/relay.h"
#include "test_util.h"

namespace pantau::outbox {
namespace {

using testing::Exec;
using testing::OpenAppDb;
using testing::QueryInt;
using testing::TempDir;

Message Msg(std::string key, std::string payload = "p") {
  Message m;
  m.topic = "orders";
  m.key = std::move(key);
  m.type = "order.created";
  m.payload = std::move(payload);
  return m;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = SqliteStore::Open(dir_.File("app.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    app_ = OpenAppDb(dir_.File("app.db"));
  }
  void TearDown() override { sqlite3_close_v2(app_); }

  // Enqueues in its own committed transaction; returns the id.
  // The message's state in the pantau_outbox view: 0 pending, 1
  // delivered, 2 dead.
  int64_t StateOf(const std::string& id) {
    return QueryInt(
        app_,
        absl::StrCat("SELECT state FROM pantau_outbox WHERE id = '", id, "'"));
  }
  std::string Commit(Message m) {
    SqliteOutbox out(app_, &clock_);
    Exec(app_, "BEGIN");
    EXPECT_TRUE(out.Enqueue(m).ok());
    Exec(app_, "COMMIT");
    return m.id;
  }

  TempDir dir_;
  base::FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
  sqlite3* app_ = nullptr;
};

TEST_F(SqliteStoreTest, EnqueueNeedsAnOpenTransaction) {
  SqliteOutbox out(app_, &clock_);
  Message m = Msg("k");
  EXPECT_EQ(out.Enqueue(m).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox"), 0);
}

TEST_F(SqliteStoreTest, RolledBackMessageIsNeverClaimed) {
  SqliteOutbox out(app_, &clock_);
  Exec(app_, "BEGIN");
  Exec(app_, "INSERT INTO orders(id) VALUES('o1')");
  Message m = Msg("k");
  ASSERT_TRUE(out.Enqueue(m).ok());
  Exec(app_, "ROLLBACK");
  std::string committed = Commit(Msg("k2"));
  auto claimed = store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].id, committed);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM orders"), 0);
}

TEST_F(SqliteStoreTest, StoredMessageRoundTrips) {
  Message m = Msg("key-1", std::string("\0bin\xff", 5));
  m.headers["traceparent"] =
      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
  std::string id = Commit(m);
  auto claimed = store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  const Message& got = (*claimed)[0];
  EXPECT_EQ(got.id, id);
  EXPECT_EQ(got.topic, "orders");
  EXPECT_EQ(got.key, "key-1");
  EXPECT_EQ(got.type, "order.created");
  EXPECT_EQ(got.payload, std::string("\0bin\xff", 5));
  EXPECT_EQ(got.headers, m.headers);
  EXPECT_EQ(got.created_at, clock_.Now());
  EXPECT_EQ(got.attempts, 0);
}

TEST_F(SqliteStoreTest, ClaimsInEnqueueOrderAndOneRelayOwnsAKey) {
  std::string a1 = Commit(Msg("a"));
  std::string b1 = Commit(Msg("b"));
  std::string a2 = Commit(Msg("a"));
  std::string c1 = Commit(Msg("c"));
  auto first = store_->Claim("r1", 3, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 3u);
  EXPECT_EQ((*first)[0].id, a1);
  EXPECT_EQ((*first)[1].id, b1);
  EXPECT_EQ((*first)[2].id, a2);
  // Leased rows are not claimed again; c1 is free.
  auto second = store_->Claim("r2", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].id, c1);
  // r1 publishes a1 but skips a2: a2 is free again, and a3 (enqueued
  // meanwhile) may only follow it, never overtake it.
  std::string a3 = Commit(Msg("a"));
  ASSERT_TRUE(store_
                  ->Complete("r1",
                             {{.id = a1, .delivered = true},
                              {.id = b1, .delivered = true},
                              {.id = a2, .skipped = true}},
                             clock_.Now())
                  .ok());
  auto third = store_->Claim("r2", 1, clock_.Now(), absl::Seconds(30));
  ASSERT_EQ(third->size(), 1u);
  EXPECT_EQ((*third)[0].id, a2);
  EXPECT_EQ((*third)[0].attempts, 0);
  // a3 is behind r2's a2: nobody else gets it.
  EXPECT_TRUE(
      store_->Claim("r3", 10, clock_.Now(), absl::Seconds(30))->empty());
}

TEST_F(SqliteStoreTest, ExpiredLeaseIsClaimedByAnotherRelay) {
  std::string id = Commit(Msg("a"));
  ASSERT_EQ(store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30))->size(),
            1u);
  clock_.Advance(absl::Seconds(31));
  auto again = store_->Claim("r2", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_EQ(again->size(), 1u);
  // The first relay's late result no longer counts: r2 owns it now.
  ASSERT_TRUE(
      store_->Complete("r1", {{.id = id, .delivered = true}}, clock_.Now())
          .ok());
  EXPECT_EQ(QueryInt(app_, "SELECT state FROM pantau_outbox"), 0);
  ASSERT_TRUE(
      store_->Complete("r2", {{.id = id, .delivered = true}}, clock_.Now())
          .ok());
  EXPECT_EQ(QueryInt(app_, "SELECT state FROM pantau_outbox"), 1);
}

TEST_F(SqliteStoreTest, FailedMessageWaitsForItsNextAttempt) {
  std::string id = Commit(Msg("a"));
  ASSERT_EQ(store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30))->size(),
            1u);
  Outcome o{.id = id,
            .error = "broker down",
            .next_attempt_at = clock_.Now() + absl::Seconds(5)};
  ASSERT_TRUE(store_->Complete("r1", {o}, clock_.Now()).ok());
  EXPECT_TRUE(
      store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30))->empty());
  clock_.Advance(absl::Seconds(5));
  auto again = store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 1);
  EXPECT_EQ((*again)[0].last_error, "broker down");
}

TEST_F(SqliteStoreTest, DeadLettersListReplayAndReleaseTheirKey) {
  std::string a1 = Commit(Msg("a"));
  std::string a2 = Commit(Msg("a"));
  store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30)).IgnoreError();
  ASSERT_TRUE(store_
                  ->Complete("r1",
                             {{.id = a1,
                               .error = "rejected",
                               .next_attempt_at = clock_.Now(),
                               .dead = true},
                              {.id = a2, .skipped = true}},
                             clock_.Now())
                  .ok());
  auto dead = store_->ListDead(10, "");
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, a1);
  EXPECT_EQ((*dead)[0].last_error, "rejected");
  EXPECT_TRUE(store_->ListDead(10, a1)->empty());
  auto st = store_->Stats(clock_.Now());
  EXPECT_EQ(st->dead, 1);
  EXPECT_EQ(st->pending, 1);
  // The dead head no longer holds back a2.
  auto next = store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].id, a2);
  ASSERT_TRUE(
      store_->Complete("r1", {{.id = a2, .delivered = true}}, clock_.Now())
          .ok());

  EXPECT_EQ(
      *store_->Replay({"00000000-0000-7000-8000-000000000000"}, clock_.Now()),
      0);
  EXPECT_EQ(*store_->Replay({a1}, clock_.Now()), 1);
  auto replayed = store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_EQ(replayed->size(), 1u);
  EXPECT_EQ((*replayed)[0].id, a1);
  EXPECT_EQ((*replayed)[0].attempts, 0);
}

TEST_F(SqliteStoreTest, StatsReportPendingAndLag) {
  auto empty = store_->Stats(clock_.Now());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->pending, 0);
  EXPECT_EQ(empty->oldest_pending_age, absl::ZeroDuration());
  Commit(Msg("a"));
  clock_.Advance(absl::Seconds(3));
  Commit(Msg("b"));
  clock_.Advance(absl::Seconds(2));
  auto st = store_->Stats(clock_.Now());
  EXPECT_EQ(st->pending, 2);
  EXPECT_EQ(st->oldest_pending_age, absl::Seconds(5));
}

TEST_F(SqliteStoreTest, CleanupDeletesOnlyOldDeliveredRows) {
  std::string a = Commit(Msg("a"));
  Commit(Msg("b"));
  store_->Claim("r1", 1, clock_.Now(), absl::Seconds(30)).IgnoreError();
  ASSERT_TRUE(
      store_->Complete("r1", {{.id = a, .delivered = true}}, clock_.Now())
          .ok());
  EXPECT_EQ(*store_->CleanupDelivered(clock_.Now(), 1000), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(*store_->CleanupDelivered(clock_.Now(), 1000), 1);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox"), 1);
}

TEST_F(SqliteStoreTest, CleanupDeletesAChunkOfTheOldestRowsAtATime) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    ids.push_back(Commit(Msg("k" + std::to_string(i))));
  }
  for (const std::string& id : ids) {
    // Delivered one after another, so the oldest are the first ids.
    store_->Claim("r1", 25, clock_.Now(), absl::Seconds(30)).IgnoreError();
    ASSERT_TRUE(
        store_->Complete("r1", {{.id = id, .delivered = true}}, clock_.Now())
            .ok());
    clock_.Advance(absl::Seconds(1));
  }
  absl::Time after_all = clock_.Now();
  EXPECT_EQ(*store_->CleanupDelivered(after_all, 10), 10);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox"), 15);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox WHERE id = '" +
                               ids[9] + "'"),
            0);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox WHERE id = '" +
                               ids[10] + "'"),
            1);
  EXPECT_EQ(*store_->CleanupDelivered(after_all, 10), 10);
  EXPECT_EQ(*store_->CleanupDelivered(after_all, 10), 5);
  EXPECT_EQ(*store_->CleanupDelivered(after_all, 10), 0);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox_message"), 0);
}

// A claim reads a whole batch with one statement per table; each message
// must still get its own row's payload, headers and retry state, and a key
// held back by a retry must be left out entirely.
TEST_F(SqliteStoreTest, BatchClaimGivesEachMessageItsOwnRow) {
  std::string held = Commit(Msg("k3", "held"));
  ASSERT_EQ(store_->Claim("r1", 1, clock_.Now(), absl::Seconds(30))->size(),
            1u);
  ASSERT_TRUE(
      store_
          ->Complete("r1",
                     {{.id = held,
                       .error = "broker down",
                       .next_attempt_at = clock_.Now() + absl::Seconds(5)}},
                     clock_.Now())
          .ok());
  std::vector<std::string> ids;
  std::map<std::string, std::string> payload_of, key_of;
  for (int i = 0; i < 200; ++i) {
    Message m = Msg(absl::StrCat("k", i % 7), absl::StrCat("payload-", i));
    if (i % 5 == 0) m.headers["n"] = absl::StrCat(i);
    ids.push_back(Commit(m));
    payload_of[ids.back()] = m.payload;
    key_of[ids.back()] = m.key;
  }
  auto batch = store_->Claim("r1", 1000, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(batch.ok()) << batch.status();
  std::vector<std::string> want;
  for (const std::string& id : ids) {
    if (key_of[id] != "k3") want.push_back(id);
  }
  ASSERT_EQ(batch->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const Message& m = (*batch)[i];
    ASSERT_EQ(m.id, want[i]) << i;
    EXPECT_EQ(m.payload, payload_of[m.id]);
    EXPECT_EQ(m.key, key_of[m.id]);
    int n = std::stoi(m.payload.substr(8));
    EXPECT_EQ(m.headers.count("n"), n % 5 == 0 ? 1u : 0u) << m.payload;
    EXPECT_EQ(m.attempts, 0);
  }
  // Once due, the held message comes first in its key, with its retry
  // state, followed by the rest of k3.
  clock_.Advance(absl::Seconds(5));
  auto k3 = store_->Claim("r2", 1000, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(k3.ok());
  ASSERT_EQ(k3->size(), ids.size() - want.size() + 1);
  EXPECT_EQ((*k3)[0].id, held);
  EXPECT_EQ((*k3)[0].payload, "held");
  EXPECT_EQ((*k3)[0].attempts, 1);
  EXPECT_EQ((*k3)[0].last_error, "broker down");
  for (size_t i = 1; i < k3->size(); ++i) {
    EXPECT_EQ((*k3)[i].key, "k3");
    EXPECT_EQ((*k3)[i].attempts, 0);
    EXPECT_TRUE((*k3)[i].last_error.empty());
  }
}

// One Complete records a mixed batch: deliveries in bulk, the rest row by
// row, and nothing for rows whose lease has gone to another relay.
// SQLite keeps ids as text, so two messages may have ids that differ only
// in case. Each outcome must land on its own message's row: the delivered
// one is recorded, the failed one stays pending for its retry.
TEST_F(SqliteStoreTest, IdsDifferingOnlyInCaseKeepTheirOwnOutcomes) {
  Message upper = Msg("k1", "upper");
  upper.id = "0190A5B6-0000-7000-8000-00000000ABCD";
  Message lower = Msg("k2", "lower");
  lower.id = "0190a5b6-0000-7000-8000-00000000abcd";
  Commit(upper);
  Commit(lower);
  auto claimed = store_->Claim("r1", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 2u);
  ASSERT_TRUE(store_
                  ->Complete("r1",
                             {{.id = upper.id, .delivered = true},
                              {.id = lower.id,
                               .error = "broker said no",
                               .next_attempt_at = clock_.Now()}},
                             clock_.Now())
                  .ok());
  EXPECT_EQ(StateOf(upper.id), 1);
  EXPECT_EQ(StateOf(lower.id), 0) << "the failed message was lost";
}

TEST_F(SqliteStoreTest, CompleteRecordsAMixedBatchOnlyWhereTheLeaseIsHeld) {
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(Commit(Msg(absl::StrCat("k", i))));
  ASSERT_EQ(store_->Claim("r1", 6, clock_.Now(), absl::Seconds(30))->size(),
            6u);
  clock_.Advance(absl::Seconds(31));
  // r2 takes over the first six (expired) and the two never claimed.
  ASSERT_EQ(store_->Claim("r2", 10, clock_.Now(), absl::Seconds(30))->size(),
            8u);
  std::vector<Outcome> all_delivered;
  for (const std::string& id : ids) {
    all_delivered.push_back({.id = id, .delivered = true});
  }
  ASSERT_TRUE(store_->Complete("r1", all_delivered, clock_.Now()).ok());
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox_pending"), 8);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox_delivered"), 0);

  ASSERT_TRUE(store_
                  ->Complete("r2",
                             {{.id = ids[0], .delivered = true},
                              {.id = ids[1], .skipped = true},
                              {.id = ids[2], .delivered = true},
                              {.id = ids[3],
                               .error = "later",
                               .next_attempt_at = clock_.Now()},
                              {.id = ids[4],
                               .error = "never",
                               .next_attempt_at = clock_.Now(),
                               .dead = true},
                              {.id = ids[5], .delivered = true}},
                             clock_.Now())
                  .ok());
  EXPECT_EQ(StateOf(ids[0]), 1);
  EXPECT_EQ(StateOf(ids[1]), 0);
  EXPECT_EQ(StateOf(ids[2]), 1);
  EXPECT_EQ(StateOf(ids[3]), 0);
  EXPECT_EQ(StateOf(ids[4]), 2);
  EXPECT_EQ(StateOf(ids[5]), 1);
  EXPECT_EQ(
      QueryInt(app_, absl::StrCat("SELECT attempts FROM pantau_outbox WHERE "
                                  "id = '",
                                  ids[3], "'")),
      1);
  // The skipped and failed rows are free again; the two r2 has not
  // recorded stay leased to it.
  auto again = store_->Claim("r3", 10, clock_.Now(), absl::Seconds(30));
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ((*again)[0].id, ids[1]);
  EXPECT_EQ((*again)[1].id, ids[3]);

  // Without retention a delivered batch leaves no message rows behind.
  store_->SetKeepDelivered(false);
  ASSERT_TRUE(store_
                  ->Complete("r2",
                             {{.id = ids[6], .delivered = true},
                              {.id = ids[7], .delivered = true}},
                             clock_.Now())
                  .ok());
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox_message"), 6);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox_pending"), 2);
}

TEST_F(SqliteStoreTest, ZeroRetentionDeletesDeliveredRowsAtOnce) {
  Commit(Msg("a"));
  std::string b = Commit(Msg("b"));
  // A relay with retention 0 switches its store to delete on delivery.
  MemoryTransport transport;
  transport.SetPublishHook([&](const Message& m) {
    return m.id == b ? absl::UnavailableError("down") : absl::OkStatus();
  });
  Relay relay(store_.get(), &transport, {.retention = absl::ZeroDuration()},
              &clock_);
  ASSERT_EQ(*relay.RunOnce(), 2);
  // The delivered row is gone; the failed one waits for its retry.
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_outbox"), 1);
  EXPECT_EQ(QueryInt(app_,
                     "SELECT count(*) FROM pantau_outbox WHERE state = 0 "
                     "AND attempts = 1"),
            1);
  EXPECT_EQ(*store_->CleanupDelivered(clock_.Now() + absl::Hours(48), 1000), 0);
}

TEST_F(SqliteStoreTest, MigrationIsIdempotentAndRefusesNewerSchema) {
  EXPECT_TRUE(MigrateSqlite(app_).ok());
  EXPECT_EQ(QueryInt(app_,
                     "SELECT value FROM pantau_outbox_meta WHERE "
                     "name='schema'"),
            kSqliteSchemaVersion);
  Exec(app_, "UPDATE pantau_outbox_meta SET value = 99");
  EXPECT_EQ(MigrateSqlite(app_).code(), absl::StatusCode::kFailedPrecondition);
}

// A database written by the version 1 library (one wide row per message)
// with messages in every state: the upgrade keeps the pending ones, in
// their order, with their retry state, and the delivered and dead ones.
TEST(SqliteStore, MigratesAVersion1DatabaseKeepingPendingRowsInOrder) {
  TempDir dir;
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("v1.db").c_str(), &db), SQLITE_OK);
  // The version 1 schema, as MigrateSqlite created it.
  Exec(db, R"sql(
CREATE TABLE pantau_outbox_meta (name TEXT PRIMARY KEY,
  value INTEGER NOT NULL);
INSERT INTO pantau_outbox_meta VALUES ('schema', 1);
CREATE TABLE pantau_outbox (seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE, topic TEXT NOT NULL, key TEXT NOT NULL,
  type TEXT NOT NULL, payload BLOB NOT NULL, headers TEXT NOT NULL,
  created_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL, last_error TEXT NOT NULL DEFAULT '',
  state INTEGER NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0, delivered_at INTEGER);
CREATE INDEX pantau_outbox_pending ON pantau_outbox(seq) WHERE state = 0;
CREATE INDEX pantau_outbox_key ON pantau_outbox(key, seq) WHERE state = 0;
CREATE INDEX pantau_outbox_delivered ON pantau_outbox(delivered_at)
  WHERE state = 1;
CREATE TABLE pantau_inbox (consumer TEXT NOT NULL,
  message_id TEXT NOT NULL, processed_at INTEGER NOT NULL,
  PRIMARY KEY (consumer, message_id)) WITHOUT ROWID;
CREATE INDEX pantau_inbox_processed ON pantau_inbox(processed_at);
INSERT INTO pantau_inbox VALUES ('c', '00000000-0000-7000-8000-00000000000f',
  1000);
)sql");
  // Seqs out of insertion order on purpose: seq is the order, not rowid
  // insertion. Times in ms; "now" below is 100000.
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
    Exec(db,
         absl::StrCat(
             "INSERT INTO pantau_outbox (seq, id, topic, key, type, "
             "payload, headers, created_at, attempts, next_attempt_at, "
             "last_error, state, delivered_at) VALUES (",
             r.seq, ", '", r.id, "', 'orders', '", r.key, "', 't', CAST('p",
             r.seq, "' AS BLOB), '{\"h\":\"", r.seq, "\"}', ", 1000 * r.seq,
             ", ", r.attempts, ", ", r.next_attempt_at, ", '", r.error, "', ",
             r.state, ", ",
             r.delivered_at > 0 ? absl::StrCat(r.delivered_at) : "NULL", ")")
             .c_str());
  }
  sqlite3_close_v2(db);

  auto store = SqliteStore::Open(dir.File("v1.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  sqlite3* s = (*store)->db();
  EXPECT_EQ(QueryInt(s, "SELECT value FROM pantau_outbox_meta"), 2);
  // The view keeps every v1 column for queries and tools.
  EXPECT_EQ(QueryInt(s,
                     "SELECT count(*) FROM (SELECT seq, id, topic, key, type, "
                     "payload, headers, created_at, attempts, "
                     "next_attempt_at, last_error, state, lease_owner, "
                     "lease_until, delivered_at FROM pantau_outbox)"),
            7);
  EXPECT_EQ(QueryInt(s, "SELECT count(*) FROM pantau_inbox"), 1);
  // Running it again changes nothing.
  ASSERT_TRUE(MigrateSqlite(s).ok());

  absl::Time now = absl::FromUnixMillis(100000);
  auto st = (*store)->Stats(now);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->pending, 4 + 1);  // 3, 4, 5, 6, 7
  EXPECT_EQ(st->dead, 1);
  EXPECT_EQ(st->oldest_pending, absl::FromUnixMillis(3000));

  // Pending rows come out in seq order, key d held back by its retry.
  auto claimed = (*store)->Claim("r", 10, now, absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  std::vector<std::string> got;
  for (const Message& m : *claimed) got.push_back(m.payload);
  EXPECT_EQ(got, (std::vector<std::string>{"p3", "p4", "p5"}));
  EXPECT_EQ((*claimed)[0].id, rows[2].id);
  EXPECT_EQ((*claimed)[0].attempts, 2);
  EXPECT_EQ((*claimed)[0].last_error, "flaky");
  EXPECT_EQ((*claimed)[0].headers.at("h"), "3");
  EXPECT_EQ((*claimed)[0].created_at, absl::FromUnixMillis(3000));
  std::vector<Outcome> done;
  for (const Message& m : *claimed)
    done.push_back({.id = m.id, .delivered = true});
  ASSERT_TRUE((*store)->Complete("r", done, now).ok());
  // Key d becomes due at its retry time, in order.
  auto later =
      (*store)->Claim("r", 10, absl::FromUnixMillis(200000), absl::Seconds(30));
  ASSERT_EQ(later->size(), 2u);
  EXPECT_EQ((*later)[0].payload, "p6");
  EXPECT_EQ((*later)[0].attempts, 1);
  EXPECT_EQ((*later)[1].payload, "p7");

  // The dead letter is listed and replayable.
  auto dead = (*store)->ListDead(10, "");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, rows[1].id);
  EXPECT_EQ((*dead)[0].attempts, 5);
  EXPECT_EQ((*dead)[0].last_error, "gone");

  // The delivered row keeps its delivery time for the retention cleanup.
  EXPECT_EQ(*(*store)->CleanupDelivered(absl::FromUnixMillis(50000), 1000), 0);
  EXPECT_EQ(*(*store)->CleanupDelivered(absl::FromUnixMillis(50001), 1000), 1);

  // New messages get higher seqs than everything migrated.
  sqlite3* app = OpenAppDb(dir.File("v1.db"));
  SqliteOutbox out(app);
  Exec(app, "BEGIN");
  Message m;
  m.topic = "orders";
  m.key = "a";
  m.payload = "new";
  ASSERT_TRUE(out.Enqueue(m).ok());
  Exec(app, "COMMIT");
  EXPECT_EQ(QueryInt(app, "SELECT max(seq) FROM pantau_outbox"), 8);
  sqlite3_close_v2(app);
}

TEST(SqliteStore, ANewDatabaseGetsLargePagesAnExistingOneKeepsItsOwn) {
  TempDir dir;
  auto fresh = SqliteStore::Open(dir.File("new.db"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  sqlite3* app = OpenAppDb(dir.File("new.db"));
  EXPECT_EQ(QueryInt(app, "PRAGMA page_size"), 16384);
  // Checkpoints still come every 4 MiB of WAL.
  EXPECT_EQ(QueryInt(app, "PRAGMA wal_autocheckpoint"), 256);
  sqlite3_close_v2(app);

  // An application's database made before it used the outbox.
  sqlite3* old = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("old.db").c_str(), &old), SQLITE_OK);
  Exec(old, "PRAGMA page_size=4096");
  Exec(old, "CREATE TABLE customers(id INTEGER PRIMARY KEY)");
  sqlite3_close_v2(old);
  auto store = SqliteStore::Open(dir.File("old.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  app = OpenAppDb(dir.File("old.db"));
  EXPECT_EQ(QueryInt(app, "PRAGMA page_size"), 4096);
  EXPECT_EQ(QueryInt(app, "PRAGMA wal_autocheckpoint"), 1024);
  // And the outbox works in it.
  base::FakeClock clock;
  SqliteOutbox out(app, &clock);
  Message m = Msg("k");
  Exec(app, "BEGIN");
  ASSERT_TRUE(out.Enqueue(m).ok());
  Exec(app, "COMMIT");
  auto claimed = (*store)->Claim("r", 10, clock.Now(), absl::Seconds(30));
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].id, m.id);
  sqlite3_close_v2(app);
}

TEST(SqliteStore, OpenFailsCleanlyOnABadPath) {
  auto s = SqliteStore::Open("/nonexistent-dir/x/y.db");
  EXPECT_FALSE(s.ok());
}

TEST(SqliteStore, OpenFailsOnAFileThatIsNotADatabase) {
  TempDir dir;
  FILE* f = fopen(dir.File("junk.db").c_str(), "w");
  fputs("this is not an sqlite database, not at all, really no", f);
  fclose(f);
  auto s = SqliteStore::Open(dir.File("junk.db"));
  EXPECT_FALSE(s.ok());
}

class SqliteInboxTest : public SqliteStoreTest {};

TEST_F(SqliteInboxTest, SecondDeliveryIsSkippedAsDuplicate) {
  SqliteInbox inbox(app_, "billing", &clock_);
  Message m = Msg("a");
  m.id = NewMessageId();
  int runs = 0;
  auto handler = [&](sqlite3* db, const Message& msg) -> absl::Status {
    ++runs;
    return sqlite3_exec(db, "INSERT INTO orders(id) VALUES('x')", nullptr,
                        nullptr, nullptr) == SQLITE_OK
               ? absl::OkStatus()
               : absl::InternalError("insert");
  };
  EXPECT_EQ(*inbox.Process(m, handler), InboxResult::kProcessed);
  EXPECT_EQ(*inbox.Process(m, handler), InboxResult::kDuplicate);
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM orders"), 1);
  // Another consumer has its own record of the same id.
  SqliteInbox other(app_, "shipping", &clock_);
  EXPECT_EQ(*other.Process(
                m, [](sqlite3*, const Message&) { return absl::OkStatus(); }),
            InboxResult::kProcessed);
}

TEST_F(SqliteInboxTest, FailedHandlerRollsBackItsWritesAndTheRecord) {
  SqliteInbox inbox(app_, "billing", &clock_);
  Message m = Msg("a");
  m.id = NewMessageId();
  auto failing = [](sqlite3* db, const Message&) -> absl::Status {
    sqlite3_exec(db, "INSERT INTO orders(id) VALUES('x')", nullptr, nullptr,
                 nullptr);
    return absl::UnavailableError("downstream");
  };
  EXPECT_EQ(inbox.Process(m, failing).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM orders"), 0);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_inbox"), 0);
  // The redelivery runs the handler.
  EXPECT_EQ(*inbox.Process(
                m, [](sqlite3*, const Message&) { return absl::OkStatus(); }),
            InboxResult::kProcessed);
}

TEST_F(SqliteInboxTest, CleanupForgetsIdsOutsideTheWindow) {
  SqliteInbox inbox(app_, "billing", &clock_);
  Message m = Msg("a");
  m.id = NewMessageId();
  auto ok = [](sqlite3*, const Message&) { return absl::OkStatus(); };
  ASSERT_TRUE(inbox.Process(m, ok).ok());
  EXPECT_EQ(*store_->CleanupInbox(clock_.Now() - absl::Minutes(30), 1000), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(*store_->CleanupInbox(clock_.Now() - absl::Minutes(30), 1000), 1);
}

TEST_F(SqliteInboxTest, CleanupForgetsAChunkAtATime) {
  SqliteInbox inbox(app_, "billing", &clock_);
  auto ok = [](sqlite3*, const Message&) { return absl::OkStatus(); };
  for (int i = 0; i < 7; ++i) {
    Message m = Msg("a");
    m.id = NewMessageId();
    ASSERT_TRUE(inbox.Process(m, ok).ok());
  }
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(*store_->CleanupInbox(clock_.Now(), 3), 3);
  EXPECT_EQ(*store_->CleanupInbox(clock_.Now(), 3), 3);
  EXPECT_EQ(*store_->CleanupInbox(clock_.Now(), 3), 1);
  EXPECT_EQ(QueryInt(app_, "SELECT count(*) FROM pantau_inbox"), 0);
}

}  // namespace
}  // namespace pantau::outbox
