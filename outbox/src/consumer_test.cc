#include "pantau/outbox/consumer.h"

#include <sqlite3.h>

#include "gtest/gtest.h"
#include "pantau/outbox/memory_transport.h"
#include "pantau/outbox/sqlite_store.h"
#include "test_util.h"

namespace pantau::outbox {
namespace {

using testing::OpenAppDb;
using testing::QueryInt;
using testing::TempDir;

TEST(Consumer, RedeliveredMessagesHaveOneEffectAndAreCounted) {
  TempDir dir;
  sqlite3* db = OpenAppDb(dir.File("consumer.db"));
  OutboxCounters counters;
  SetInstrumentation(&counters);
  MemoryTransport broker;
  Message m;
  m.topic = "orders";
  m.id = NewMessageId();
  m.payload = "o1";
  // The broker delivers the same message three times (at least once).
  broker.Publish({m, m, m}, absl::Seconds(1));

  SqliteInbox inbox(db, "billing");
  Consumer consumer(
      &broker, "billing",
      [&](const Message& msg) {
        return inbox.Process(msg, [](sqlite3* db, const Message& msg) {
          std::string sql =
              "INSERT INTO orders(id) VALUES('" + msg.payload + "')";
          return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) ==
                         SQLITE_OK
                     ? absl::OkStatus()
                     : absl::InternalError(sqlite3_errmsg(db));
        });
      },
      {.batch_size = 10, .fetch_timeout = absl::Milliseconds(10)});
  EXPECT_EQ(*consumer.PollOnce(), 3);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM orders"), 1);
  EXPECT_EQ(counters.inbox_processed.load(), 1);
  EXPECT_EQ(counters.inbox_duplicates.load(), 2);
  SetInstrumentation(nullptr);
  sqlite3_close_v2(db);
}

TEST(Consumer, FailedHandlerNaksForRedelivery) {
  MemoryTransport broker;
  Message m;
  m.topic = "orders";
  m.id = NewMessageId();
  broker.Publish({m}, absl::Seconds(1));
  int calls = 0;
  Consumer consumer(
      &broker, "c",
      [&](const Message&) -> absl::StatusOr<InboxResult> {
        if (++calls == 1) return absl::UnavailableError("db down");
        return InboxResult::kProcessed;
      },
      {.batch_size = 10, .fetch_timeout = absl::Milliseconds(10)});
  EXPECT_EQ(*consumer.PollOnce(), 0);
  EXPECT_EQ(broker.queued(), 1u);
  EXPECT_EQ(*consumer.PollOnce(), 1);
  EXPECT_EQ(broker.queued(), 0u);
  EXPECT_EQ(calls, 2);
}

TEST(Consumer, BatchModeCommitsOnceAndFallsBackOnAPoisonMessage) {
  TempDir dir;
  sqlite3* db = OpenAppDb(dir.File("consumer.db"));
  MemoryTransport broker;
  std::vector<Message> msgs;
  for (const char* p : {"a", "poison", "c"}) {
    Message m;
    m.topic = "orders";
    m.id = NewMessageId();
    m.payload = p;
    msgs.push_back(m);
  }
  msgs.push_back(msgs[0]);  // a redelivery inside the same batch
  broker.Publish(msgs, absl::Seconds(1));
  SqliteInbox inbox(db, "billing");
  auto handler = [](sqlite3* db, const Message& m) -> absl::Status {
    if (m.payload == "poison") return absl::InvalidArgumentError("poison");
    std::string sql = "INSERT INTO orders(id) VALUES('" + m.payload + "')";
    return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK
               ? absl::OkStatus()
               : absl::InternalError(sqlite3_errmsg(db));
  };
  int batches = 0;
  Consumer consumer(
      &broker, "billing",
      [&](const Message& m) { return inbox.Process(m, handler); },
      {.batch_size = 10, .fetch_timeout = absl::Milliseconds(10)},
      [&](const std::vector<const Message*>& ms) {
        ++batches;
        return inbox.ProcessBatch(ms, handler);
      });
  // The batch fails on the poison message and rolls back; one by one, the
  // three good deliveries are handled and the poison one is naked.
  EXPECT_EQ(*consumer.PollOnce(), 3);
  EXPECT_EQ(batches, 1);
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM orders"), 2);
  EXPECT_EQ(broker.queued(), 1u);

  // Without a poison message the batch path does it all in one go.
  Message d;
  d.topic = "orders";
  d.id = NewMessageId();
  d.payload = "d";
  broker.Publish({d, msgs[2]}, absl::Seconds(1));
  SqliteInbox check(db, "billing");
  auto results = check.ProcessBatch({&d, &msgs[2], &d}, handler);
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ(*results, (std::vector<InboxResult>{InboxResult::kProcessed,
                                                InboxResult::kDuplicate,
                                                InboxResult::kDuplicate}));
  EXPECT_EQ(QueryInt(db, "SELECT count(*) FROM orders"), 3);
  sqlite3_close_v2(db);
}

}  // namespace
}  // namespace pantau::outbox
