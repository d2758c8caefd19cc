#include "pantau/outbox/consumer.h"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <vector>

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

// Publishes `n` messages with payloads "0", "1", ... in that order.
void PublishNumbered(MemoryTransport& broker, int n) {
  std::vector<Message> msgs;
  for (int i = 0; i < n; ++i) {
    Message m;
    m.topic = "orders";
    m.id = NewMessageId();
    m.payload = std::to_string(i);
    msgs.push_back(m);
  }
  broker.Publish(msgs, absl::Seconds(1));
}

// With a source that can fetch ahead, the next batch is fetched while one
// is handled: every message is still handled once, in order, and a batch
// fetched ahead that the consumer never handles goes back to the broker
// when it is destroyed instead of waiting out an ack timeout.
TEST(Consumer, FetchesAheadInOrderAndNaksAnUnhandledBatchOnDestruction) {
  MemoryTransport broker;
  broker.SetFetchAhead(true);
  PublishNumbered(broker, 7);
  std::vector<std::string> seen;
  auto handler = [&](const Message& m) -> absl::StatusOr<InboxResult> {
    seen.push_back(m.payload);
    return InboxResult::kProcessed;
  };
  {
    Consumer consumer(&broker, "c", handler,
                      {.batch_size = 2, .fetch_timeout = absl::Seconds(1)});
    EXPECT_EQ(*consumer.PollOnce(), 2);
    EXPECT_EQ(*consumer.PollOnce(), 2);
    // The third batch (4, 5) is fetched without another PollOnce.
    for (int i = 0; i < 2000 && broker.queued() != 1; ++i) {
      absl::SleepFor(absl::Milliseconds(1));
    }
    EXPECT_EQ(broker.queued(), 1u);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3"}));
  // 6 was never fetched; 4 and 5 came back when the consumer went away.
  EXPECT_EQ(broker.queued(), 3u);
  Consumer next(&broker, "c", handler,
                {.batch_size = 10, .fetch_timeout = absl::Milliseconds(50)});
  EXPECT_EQ(*next.PollOnce(), 3);
  std::vector<std::string> rest(seen.begin() + 4, seen.end());
  std::sort(rest.begin(), rest.end());
  EXPECT_EQ(rest, (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(broker.queued(), 0u);
}

// A Source whose Fetch takes a while and counts how many run at once.
class SlowSource : public Source {
 public:
  explicit SlowSource(MemoryTransport* inner) : inner_(inner) {}
  std::string_view system() const override { return "slow"; }
  bool CanFetchAhead() const override { return true; }
  absl::StatusOr<std::vector<std::unique_ptr<Delivery>>> Fetch(
      int max, absl::Duration timeout) override {
    int now = ++active_;
    int seen = max_active_.load();
    while (now > seen && !max_active_.compare_exchange_weak(seen, now)) {
    }
    absl::SleepFor(absl::Milliseconds(20));
    auto r = inner_->Fetch(max, timeout);
    --active_;
    return r;
  }
  int max_active() const { return max_active_.load(); }

 private:
  MemoryTransport* inner_;
  std::atomic<int> active_{0}, max_active_{0};
};

// PollOnce while the fetch ahead is still running waits for that fetch: it
// never starts a second one beside it (which would hand out batches out of
// order, and let the worker's result be overwritten and lost).
TEST(Consumer, PollOnceWaitsForTheFetchAheadInsteadOfFetchingBesideIt) {
  MemoryTransport broker;
  PublishNumbered(broker, 6);
  SlowSource source(&broker);
  std::vector<std::string> seen;
  Consumer consumer(&source, "c",
                    [&](const Message& m) -> absl::StatusOr<InboxResult> {
                      seen.push_back(m.payload);
                      return InboxResult::kProcessed;
                    },
                    {.batch_size = 2, .fetch_timeout = absl::Milliseconds(50)});
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*consumer.PollOnce(), 2);
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "2", "3", "4", "5"}));
  EXPECT_EQ(source.max_active(), 1);
}

}  // namespace
}  // namespace pantau::outbox
