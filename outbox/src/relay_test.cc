#include "pantau/outbox/relay.h"

#include <sqlite3.h>

#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "pantau/outbox/memory_transport.h"
#include "pantau/outbox/sqlite_store.h"
#include "test_util.h"

namespace pantau::outbox {
namespace {

using testing::Exec;
using testing::OpenAppDb;
using testing::TempDir;

class RelayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *SqliteStore::Open(dir_.File("app.db"));
    app_ = OpenAppDb(dir_.File("app.db"));
    options_.relay_id = "relay-1";
    options_.seed = 42;
    options_.backoff_initial = absl::Seconds(1);
    options_.backoff_max = absl::Seconds(60);
    options_.jitter = 0;
    options_.max_attempts = 3;
  }
  void TearDown() override {
    SetInstrumentation(nullptr);
    sqlite3_close_v2(app_);
  }

  std::string Enqueue(const std::string& key, const std::string& payload) {
    SqliteOutbox out(app_, &clock_);
    Message m;
    m.topic = "orders";
    m.key = key;
    m.payload = payload;
    Exec(app_, "BEGIN");
    EXPECT_TRUE(out.Enqueue(m).ok());
    Exec(app_, "COMMIT");
    return m.id;
  }

  std::vector<std::string> PublishedPayloads() {
    std::vector<std::string> out;
    for (const Message& m : transport_.published()) out.push_back(m.payload);
    return out;
  }

  TempDir dir_;
  base::FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
  sqlite3* app_ = nullptr;
  MemoryTransport transport_;
  RelayOptions options_;
};

TEST_F(RelayTest, PublishesEverythingInOrderPerKey) {
  for (int i = 0; i < 5; ++i) {
    Enqueue("a", "a" + std::to_string(i));
    Enqueue("b", "b" + std::to_string(i));
  }
  Relay relay(store_.get(), &transport_, options_, &clock_);
  for (int round = 0; round < 10; ++round) ASSERT_TRUE(relay.RunOnce().ok());
  std::vector<std::string> a, b;
  for (const std::string& p : PublishedPayloads())
    (p[0] == 'a' ? a : b).push_back(p);
  EXPECT_EQ(a, (std::vector<std::string>{"a0", "a1", "a2", "a3", "a4"}));
  EXPECT_EQ(b, (std::vector<std::string>{"b0", "b1", "b2", "b3", "b4"}));
  EXPECT_EQ(store_->Stats(clock_.Now())->pending, 0);
}

TEST_F(RelayTest, FailingMessageHoldsBackOnlyItsOwnKey) {
  Enqueue("a", "a0");
  Enqueue("a", "a1");
  Enqueue("b", "b0");
  Enqueue("b", "b1");
  transport_.SetPublishHook([](const Message& m) {
    return m.payload == "a0" ? absl::UnavailableError("no route")
                             : absl::OkStatus();
  });
  Relay relay(store_.get(), &transport_, options_, &clock_);
  for (int round = 0; round < 4; ++round) ASSERT_TRUE(relay.RunOnce().ok());
  EXPECT_EQ(PublishedPayloads(), (std::vector<std::string>{"b0", "b1"}));

  transport_.SetPublishHook(nullptr);
  clock_.Advance(absl::Seconds(1));
  for (int round = 0; round < 3; ++round) ASSERT_TRUE(relay.RunOnce().ok());
  EXPECT_EQ(PublishedPayloads(),
            (std::vector<std::string>{"b0", "b1", "a0", "a1"}));
}

TEST_F(RelayTest, RetriesWithExponentialBackoffThenDeadLetters) {
  OutboxCounters counters;
  SetInstrumentation(&counters);
  std::string id = Enqueue("a", "a0");
  Enqueue("a", "a1");
  transport_.SetPublishHook([&](const Message& m) {
    return m.id == id ? absl::UnavailableError("broker down")
                      : absl::OkStatus();
  });
  Relay relay(store_.get(), &transport_, options_, &clock_);
  // Each round claims a0 and a1; a0 fails and a1, behind it, is skipped.
  ASSERT_EQ(*relay.RunOnce(), 2);  // attempt 1 fails, retry in 1s
  clock_.Advance(absl::Milliseconds(999));
  EXPECT_EQ(*relay.RunOnce(), 0);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(*relay.RunOnce(), 2);  // attempt 2 fails, retry in 2s
  clock_.Advance(absl::Milliseconds(1999));
  EXPECT_EQ(*relay.RunOnce(), 0);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(*relay.RunOnce(), 2);  // attempt 3 fails: dead
  EXPECT_EQ(counters.failed.load(), 3);
  EXPECT_EQ(counters.dead_lettered.load(), 1);
  auto dead = store_->ListDead(10, "");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].attempts, 3);
  EXPECT_EQ((*dead)[0].last_error, "broker down");
  // The key moves on to a1.
  ASSERT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(PublishedPayloads(), (std::vector<std::string>{"a1"}));
  EXPECT_EQ(counters.published.load(), 1);
}

TEST_F(RelayTest, SameKeyMessagesOfOneBatchGoOutInSeparateWaves) {
  for (int i = 0; i < 3; ++i) Enqueue("a", "a" + std::to_string(i));
  Enqueue("b", "b0");
  class WaveRecorder : public Transport {
   public:
    std::string_view system() const override { return "rec"; }
    std::vector<absl::Status> Publish(const std::vector<Message>& batch,
                                      absl::Duration) override {
      std::string wave;
      for (const Message& m : batch) wave += m.payload + " ";
      waves.push_back(wave);
      return std::vector<absl::Status>(batch.size());
    }
    std::vector<std::string> waves;
  } rec;
  Relay relay(store_.get(), &rec, options_, &clock_);
  ASSERT_EQ(*relay.RunOnce(), 4);
  EXPECT_EQ(rec.waves, (std::vector<std::string>{"a0 b0 ", "a1 ", "a2 "}));
}

TEST_F(RelayTest, WavesStopWhenTheLeaseRunsOut) {
  Enqueue("a", "a0");
  Enqueue("a", "a1");
  options_.lease = absl::Seconds(30);
  options_.publish_timeout = absl::Seconds(10);
  // The first wave takes 25 s: a second one could outlive the lease.
  transport_.SetPublishHook([&](const Message&) {
    clock_.Advance(absl::Seconds(25));
    return absl::OkStatus();
  });
  Relay relay(store_.get(), &transport_, options_, &clock_);
  ASSERT_EQ(*relay.RunOnce(), 2);
  EXPECT_EQ(PublishedPayloads(), (std::vector<std::string>{"a0"}));
  // a1 was released, not failed: the next round publishes it.
  transport_.SetPublishHook(nullptr);
  ASSERT_EQ(*relay.RunOnce(), 1);
  EXPECT_EQ(PublishedPayloads(), (std::vector<std::string>{"a0", "a1"}));
}

TEST_F(RelayTest, PermanentRejectionDeadLettersAtOnce) {
  std::string id = Enqueue("a", "a0");
  transport_.SetPublishHook(
      [](const Message&) { return absl::InvalidArgumentError("HTTP 400"); });
  options_.max_attempts = 10;
  Relay relay(store_.get(), &transport_, options_, &clock_);
  ASSERT_EQ(*relay.RunOnce(), 1);
  auto dead = store_->ListDead(10, "");
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, id);
  EXPECT_EQ((*dead)[0].attempts, 1);
}

TEST(Backoff, DoublesCapsAndJittersDownward) {
  RelayOptions o;
  o.backoff_initial = absl::Milliseconds(100);
  o.backoff_max = absl::Seconds(1);
  o.jitter = 0;
  EXPECT_EQ(BackoffDelay(o, 1, 0.5), absl::Milliseconds(100));
  EXPECT_EQ(BackoffDelay(o, 2, 0.5), absl::Milliseconds(200));
  EXPECT_EQ(BackoffDelay(o, 4, 0.5), absl::Milliseconds(800));
  EXPECT_EQ(BackoffDelay(o, 5, 0.5), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(o, 10000, 0.5), absl::Seconds(1));
  o.jitter = 0.5;
  EXPECT_EQ(BackoffDelay(o, 1, 0.0), absl::Milliseconds(100));
  EXPECT_EQ(BackoffDelay(o, 1, 1.0), absl::Milliseconds(50));
  EXPECT_EQ(BackoffDelay(o, 1, 0.5), absl::Milliseconds(75));
}

TEST_F(RelayTest, MaintainReportsStatsAndCleansUp) {
  OutboxCounters counters;
  SetInstrumentation(&counters);
  options_.retention = absl::Hours(1);
  Enqueue("a", "a0");
  clock_.Advance(absl::Seconds(7));
  Relay relay(store_.get(), &transport_, options_, &clock_);
  ASSERT_TRUE(relay.Maintain().ok());
  EXPECT_EQ(counters.pending.load(), 1);
  EXPECT_EQ(counters.oldest_pending_age_ms.load(), 7000);
  ASSERT_EQ(*relay.RunOnce(), 1);
  clock_.Advance(absl::Hours(2));
  ASSERT_TRUE(relay.Maintain().ok());
  EXPECT_EQ(counters.pending.load(), 0);
  EXPECT_EQ(testing::QueryInt(app_, "SELECT count(*) FROM pantau_outbox"), 0);
}

// A clock that moves on by `step` every time it is read, as time passes
// while cleanup works.
class SteppingClock : public base::Clock {
 public:
  SteppingClock(absl::Time start, absl::Duration step)
      : step_(step), now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    now_ += step_;
    return now_;
  }
  absl::Duration Monotonic() const override {
    return Now() - absl::UnixEpoch();
  }

 private:
  absl::Duration step_;
  mutable absl::Mutex mu_;
  mutable absl::Time now_ ABSL_GUARDED_BY(mu_);
};

// Minutes of deliveries deleted in one transaction held SQLite's write lock
// (every producer) for seconds. Maintain deletes in chunks for a bounded
// time and goes on at the next call, not a cleanup interval later.
TEST_F(RelayTest, MaintainCleansUpInChunksAcrossCalls) {
  constexpr int kMessages = 4500;
  {
    SqliteOutbox out(app_, &clock_);
    std::vector<Message> batch(kMessages);
    for (int i = 0; i < kMessages; ++i) {
      batch[i].topic = "orders";
      batch[i].key = "k" + std::to_string(i % 10);
    }
    Exec(app_, "BEGIN");
    ASSERT_TRUE(out.EnqueueBatch(batch).ok());
    Exec(app_, "COMMIT");
  }
  options_.batch_size = kMessages;
  options_.retention = absl::Hours(1);
  options_.stats_interval = absl::Hours(100);
  {
    Relay deliver(store_.get(), &transport_, options_, &clock_);
    ASSERT_EQ(*deliver.RunOnce(), kMessages);
  }
  // Two hours on, each read of the clock 8 ms later: a call has time for
  // a few 1000-row chunks (20 ms), not for all of them.
  SteppingClock later(clock_.Now() + absl::Hours(2), absl::Milliseconds(8));
  options_.cleanup_interval = absl::Hours(100);
  Relay relay(store_.get(), &transport_, options_, &later);
  auto left = [&] {
    return testing::QueryInt(app_, "SELECT count(*) FROM pantau_outbox");
  };
  ASSERT_TRUE(relay.Maintain().ok());
  int64_t after_first = left();
  EXPECT_GT(after_first, 0) << "one call deleted everything at once";
  EXPECT_LT(after_first, kMessages);
  for (int i = 0; i < 5 && left() > 0; ++i) ASSERT_TRUE(relay.Maintain().ok());
  EXPECT_EQ(left(), 0) << "the rest waited for the next cleanup interval";
}

// A store whose cleanup fails, counting the attempts; the rest is the
// SQLite store's.
class FailingCleanupStore : public RelayStore {
 public:
  explicit FailingCleanupStore(RelayStore* inner) : inner_(inner) {}
  absl::StatusOr<std::vector<Message>> Claim(std::string_view owner, int limit,
                                             absl::Time now,
                                             absl::Duration lease) override {
    return inner_->Claim(owner, limit, now, lease);
  }
  absl::Status Complete(std::string_view owner,
                        const std::vector<Outcome>& outcomes,
                        absl::Time now) override {
    return inner_->Complete(owner, outcomes, now);
  }
  absl::StatusOr<OutboxStats> Stats(absl::Time now) override {
    return inner_->Stats(now);
  }
  absl::StatusOr<std::vector<Message>> ListDead(
      int limit, std::string_view after) override {
    return inner_->ListDead(limit, after);
  }
  absl::StatusOr<int64_t> Replay(const std::vector<std::string>& ids,
                                 absl::Time now) override {
    return inner_->Replay(ids, now);
  }
  absl::StatusOr<int64_t> CleanupDelivered(absl::Time, int64_t) override {
    ++cleanups;
    return absl::PermissionDeniedError("no DELETE for this role");
  }
  absl::StatusOr<int64_t> CleanupInbox(absl::Time, int64_t) override {
    return 0;
  }
  absl::Status WaitForWork(absl::Duration timeout) override {
    return inner_->WaitForWork(timeout);
  }
  void Wake() override { inner_->Wake(); }

  int cleanups = 0;

 private:
  RelayStore* inner_;
};

TEST_F(RelayTest, AFailingCleanupWaitsForTheNextInterval) {
  FailingCleanupStore store(store_.get());
  Relay relay(&store, &transport_, options_, &clock_);
  EXPECT_FALSE(relay.Maintain().ok());
  EXPECT_TRUE(relay.Maintain().ok());  // not again within the interval
  EXPECT_EQ(store.cleanups, 1);
  clock_.Advance(options_.cleanup_interval);
  EXPECT_FALSE(relay.Maintain().ok());
  EXPECT_EQ(store.cleanups, 2);
}

TEST_F(RelayTest, RunClaimsAheadAndKeepsPerKeyOrder) {
  // Run claims the next batch while the previous one is being published;
  // the keys of messages in flight must stay out of that claim.
  ASSERT_TRUE(store_->CanClaimAhead());
  constexpr int kKeys = 3, kPerKey = 40;
  for (int i = 0; i < kPerKey; ++i) {
    for (int k = 0; k < kKeys; ++k) {
      Enqueue("k" + std::to_string(k), std::to_string(i));
    }
  }
  transport_.SetPublishHook([](const Message&) {
    absl::SleepFor(absl::Microseconds(200));  // keep batches in flight
    return absl::OkStatus();
  });
  options_.batch_size = 7;
  options_.poll_interval = absl::Milliseconds(1);
  Relay relay(store_.get(), &transport_, options_, base::Clock::Real());
  std::thread t([&] { relay.Run(); });
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (transport_.published().size() < kKeys * kPerKey &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  relay.Stop();
  t.join();
  std::vector<Message> published = transport_.published();
  ASSERT_EQ(published.size(), static_cast<size_t>(kKeys * kPerKey));
  std::map<std::string, int> next;
  for (const Message& m : published) {
    EXPECT_EQ(m.payload, std::to_string(next[m.key]++)) << "key " << m.key;
  }
  // Stop records the batch still in flight.
  EXPECT_EQ(testing::QueryInt(
                app_, "SELECT count(*) FROM pantau_outbox WHERE state = 0"),
            0);
}

TEST_F(RelayTest, RunStopsPromptly) {
  Enqueue("a", "a0");
  options_.poll_interval = absl::Seconds(30);
  Relay relay(store_.get(), &transport_, options_, base::Clock::Real());
  std::thread t([&] { relay.Run(); });
  // Stop must cut the 30 s idle wait short; the test would time out if not.
  while (transport_.published().empty()) absl::SleepFor(absl::Milliseconds(1));
  relay.Stop();
  t.join();
  EXPECT_EQ(transport_.published().size(), 1u);
}

}  // namespace
}  // namespace pantau::outbox
