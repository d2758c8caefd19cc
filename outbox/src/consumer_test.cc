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
  sqlite3_close(db);
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

}  // namespace
}  // namespace pantau::outbox
