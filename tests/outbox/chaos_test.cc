// Reliability as a test: producer, relay(s) and consumer run as separate
// processes and are SIGKILLed at random moments, many times, while
// nats-server is killed and restarted too. At the end every committed
// business change must have exactly one effect at the consumer, and no
// message of a rolled-back transaction may ever have been published.
//
// Per-key order is asserted in the runs where only pantau's processes die.
// When nats-server is SIGKILLed too, JetStream 2.9 (one replica, writes
// flushed asynchronously) can lose a message it has already acknowledged;
// the relay has then moved on to the key's next message, and the lost one
// reaches the stream again only as a late copy (a client's reconnect
// buffer), behind its successor. Those runs print the count, without
// failing on it: the library cannot order what the broker forgets. Found
// by this test: 3 of 6 runs with broker restarts showed 1-2 reordered keys,
// 0 of 6 without (2026-11-25).
//
// PANTAU_CHAOS_SECONDS sets the chaos phase per store (default 20).
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "pantau/outbox/nats_transport.h"
#include "pantau/outbox/pg_store.h"
#include "pantau/outbox/sqlite_store.h"
#include "servers.h"

namespace pantau::outbox {
namespace {

using testing::NatsServer;
using testing::Spawn;

struct Role {
  std::string name;
  std::vector<std::string> argv;
  pid_t pid = -1;
  int kills = 0;
  int unexpected_exits = 0;
};

absl::Duration ChaosDuration() {
  const char* s = getenv("PANTAU_CHAOS_SECONDS");
  int secs = s != nullptr ? atoi(s) : 20;
  return absl::Seconds(secs > 0 ? secs : 20);
}

std::set<std::string> SqliteColumn(
    const std::string& path, const std::string& sql,
    std::map<std::string, int>* counts = nullptr) {
  std::set<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close_v2(db);
    return out;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &q, nullptr) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      std::string v = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
      out.insert(v);
      if (counts != nullptr) (*counts)[v]++;
    }
  }
  sqlite3_finalize(q);
  sqlite3_close_v2(db);
  return out;
}

std::set<std::string> PgColumn(const std::string& conninfo,
                               const std::string& sql) {
  std::set<std::string> out;
  PGconn* c = PQconnectdb(conninfo.c_str());
  PGresult* r = PQexec(c, sql.c_str());
  for (int i = 0; i < PQntuples(r); ++i) out.insert(PQgetvalue(r, i, 0));
  PQclear(r);
  PQfinish(c);
  return out;
}

void RunChaos(bool use_pg, bool restart_nats) {
  auto nats = NatsServer::Start();
  if (!nats.ok()) GTEST_SKIP() << "no nats-server: " << nats.status();
  std::string dir = testing::MakeTempDir("outbox_chaos");
  std::string store_arg;
  std::string conninfo;
  if (use_pg) {
    auto pg = testing::SharedPostgres();
    if (!pg.ok()) GTEST_SKIP() << "no PostgreSQL: " << pg.status();
    auto db = (*pg)->NewDatabase();
    ASSERT_TRUE(db.ok()) << db.status();
    conninfo = *db;
    PGconn* c = PQconnectdb(conninfo.c_str());
    ASSERT_TRUE(MigratePg(c).ok());
    PQclear(PQexec(c, "CREATE TABLE orders (id TEXT PRIMARY KEY)"));
    PQfinish(c);
    store_arg = "pg=" + conninfo;
  } else {
    auto store = SqliteStore::Open(dir + "/producer.db");
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_EQ(sqlite3_exec((*store)->db(),
                           "CREATE TABLE orders (id TEXT PRIMARY KEY)", nullptr,
                           nullptr, nullptr),
              SQLITE_OK);
    store_arg = "sqlite=" + dir + "/producer.db";
  }
  NatsOptions nopts;
  nopts.url = (*nats)->url();
  nopts.stream = "CHAOS";
  nopts.subjects = {"chaos.>"};
  {
    auto t = NatsTransport::Connect(nopts);
    ASSERT_TRUE(t.ok()) << t.status();
  }

  const std::string worker = OUTBOX_CHAOS_WORKER;
  const std::string log = dir + "/producer.log";
  std::vector<Role> roles;
  roles.push_back({"producer", {worker, "producer", store_arg, "log=" + log}});
  int relays = use_pg ? 2 : 1;
  for (int i = 0; i < relays; ++i) {
    roles.push_back({absl::StrCat("relay", i),
                     {worker, "relay", store_arg, "nats=" + (*nats)->url(),
                      absl::StrCat("id=relay", i)}});
  }
  roles.push_back({"consumer",
                   {worker, "consumer", "inbox=" + dir + "/consumer.db",
                    "nats=" + (*nats)->url()}});
  auto start = [&](Role& r) {
    auto pid = Spawn(r.argv, dir + "/" + r.name + ".log");
    ASSERT_TRUE(pid.ok()) << pid.status();
    r.pid = *pid;
  };
  for (Role& r : roles) start(r);

  std::mt19937 rng(std::random_device{}());
  int nats_restarts = 0;
  absl::Time end = absl::Now() + ChaosDuration();
  while (absl::Now() < end) {
    absl::SleepFor(absl::Milliseconds(150 + rng() % 450));
    for (Role& r : roles) {  // a worker that died on its own is a finding
      int status;
      if (waitpid(r.pid, &status, WNOHANG) == r.pid) {
        ++r.unexpected_exits;
        start(r);
      }
    }
    int pick = rng() % 10;
    if (pick == 9 && restart_nats) {
      (*nats)->Kill();
      absl::SleepFor(absl::Milliseconds(100 + rng() % 400));
      ASSERT_TRUE((*nats)->Restart().ok());
      ++nats_restarts;
      continue;
    }
    Role& victim = roles[pick < 3   ? 0
                         : pick < 6 ? 1 + rng() % relays
                                    : roles.size() - 1];
    kill(victim.pid, SIGKILL);
    int status;
    waitpid(victim.pid, &status, 0);
    ++victim.kills;
    start(victim);
  }
  // Stop producing; let relay(s) and consumer drain.
  kill(roles[0].pid, SIGKILL);
  waitpid(roles[0].pid, nullptr, 0);

  std::set<std::string> committed;
  std::map<std::string, int> effects;
  absl::Time deadline = absl::Now() + absl::Seconds(45);
  while (absl::Now() < deadline) {
    committed =
        use_pg ? PgColumn(conninfo, "SELECT id FROM orders")
               : SqliteColumn(dir + "/producer.db", "SELECT id FROM orders");
    effects.clear();
    SqliteColumn(dir + "/consumer.db", "SELECT order_id FROM effects",
                 &effects);
    if (effects.size() >= committed.size()) break;
    absl::SleepFor(absl::Milliseconds(500));
  }
  for (size_t i = 1; i < roles.size(); ++i) {
    kill(roles[i].pid, SIGKILL);
    waitpid(roles[i].pid, nullptr, 0);
  }

  // Everything JetStream ever stored, through a fresh durable consumer.
  std::set<std::string> published;
  // Stream order per key, to check it against enqueue order.
  std::map<std::string, std::vector<std::string>> stream_order;
  {
    auto audit =
        NatsSource::Connect(nopts, {.durable = "audit", .subject = "chaos.>"});
    ASSERT_TRUE(audit.ok()) << audit.status();
    absl::Time audit_end = absl::Now() + absl::Seconds(30);
    int empty_rounds = 0;
    while (empty_rounds < 3 && absl::Now() < audit_end) {
      auto batch = (*audit)->Fetch(1000, absl::Milliseconds(300));
      if (!batch.ok() || batch->empty()) {
        ++empty_rounds;
        continue;
      }
      empty_rounds = 0;
      for (auto& d : *batch) {
        if (published.insert(d->message().payload).second) {
          stream_order[d->message().key].push_back(d->message().payload);
        }
        d->Ack().IgnoreError();
      }
    }
  }

  // The outbox keeps delivered rows (24 h retention): their sequence
  // numbers are the enqueue order.
  std::map<std::string, int64_t> seq_of;
  {
    std::string sql =
        use_pg
            ? "SELECT convert_from(payload, 'UTF8') || ' ' || seq FROM "
              "pantau_outbox"
            : "SELECT CAST(payload AS TEXT) || ' ' || seq FROM pantau_outbox";
    std::set<std::string> rows = use_pg
                                     ? PgColumn(conninfo, sql)
                                     : SqliteColumn(dir + "/producer.db", sql);
    for (const std::string& r : rows) {
      size_t sp = r.rfind(' ');
      seq_of[r.substr(0, sp)] = std::stoll(r.substr(sp + 1));
    }
  }
  int out_of_order = 0;
  for (const auto& [key, ids] : stream_order) {
    for (size_t i = 1; i < ids.size(); ++i) {
      if (seq_of[ids[i]] < seq_of[ids[i - 1]]) {
        ++out_of_order;
        // Which message overtook which, to read against the relay logs.
        std::printf(
            "out of order: key=%s %s (seq %lld) stored after %s "
            "(seq %lld)\n",
            key.c_str(), ids[i].c_str(), static_cast<long long>(seq_of[ids[i]]),
            ids[i - 1].c_str(), static_cast<long long>(seq_of[ids[i - 1]]));
      }
    }
  }

  std::set<std::string> rolled_back;
  {
    std::ifstream in(log);
    std::string kind, id;
    while (in >> kind >> id) {
      if (kind == "R") rolled_back.insert(id);
    }
  }
  int missing = 0, duplicated = 0, phantom_effects = 0,
      published_rolled_back = 0, published_uncommitted = 0;
  for (const std::string& id : committed) {
    auto it = effects.find(id);
    if (it == effects.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicated;
    }
  }
  for (const auto& [id, n] : effects) {
    if (!committed.contains(id)) ++phantom_effects;
  }
  for (const std::string& id : published) {
    if (rolled_back.contains(id)) ++published_rolled_back;
    if (!committed.contains(id)) ++published_uncommitted;
  }
  int64_t dups =
      SqliteColumn(dir + "/consumer.db", "SELECT count(*) FROM dups").size() > 0
          ? std::stoll(
                *SqliteColumn(dir + "/consumer.db", "SELECT count(*) FROM dups")
                     .begin())
          : 0;
  std::string kills;
  for (const Role& r : roles) {
    absl::StrAppend(&kills, " ", r.name, "=", r.kills);
    EXPECT_EQ(r.unexpected_exits, 0) << r.name << " exited on its own; see "
                                     << dir << "/" << r.name << ".log";
  }
  printf(
      "chaos (%s): committed=%zu rolled_back=%zu published=%zu effects=%zu "
      "inbox_duplicates_skipped=%lld kills:%s nats_restarts=%d\n",
      use_pg ? "postgres" : "sqlite", committed.size(), rolled_back.size(),
      published.size(), effects.size(), static_cast<long long>(dups),
      kills.c_str(), nats_restarts);
  printf(
      "chaos (%s): missing=%d duplicated_effects=%d phantom_effects=%d "
      "published_rolled_back=%d published_uncommitted=%d "
      "out_of_order_per_key=%d (of %zu keys)\n",
      use_pg ? "postgres" : "sqlite", missing, duplicated, phantom_effects,
      published_rolled_back, published_uncommitted, out_of_order,
      stream_order.size());
  EXPECT_GT(committed.size(), 100u);
  EXPECT_GT(rolled_back.size(), 10u);
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(duplicated, 0);
  EXPECT_EQ(phantom_effects, 0);
  EXPECT_EQ(published_rolled_back, 0);
  EXPECT_EQ(published_uncommitted, 0);
  if (!restart_nats) {
    EXPECT_EQ(out_of_order, 0);
  }
  if (!::testing::Test::HasFailure()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } else {
    printf("chaos: files kept in %s\n", dir.c_str());
  }
}

TEST(Chaos, SqliteOutboxSurvivesKillsWithExactlyOneEffect) {
  RunChaos(/*use_pg=*/false, /*restart_nats=*/true);
}

TEST(Chaos, PostgresOutboxWithTwoRelaysSurvivesKillsWithExactlyOneEffect) {
  RunChaos(/*use_pg=*/true, /*restart_nats=*/true);
}

TEST(Chaos, SqliteOutboxKeepsPerKeyOrderThroughKills) {
  RunChaos(/*use_pg=*/false, /*restart_nats=*/false);
}

TEST(Chaos, PostgresOutboxWithTwoRelaysKeepsPerKeyOrderThroughKills) {
  RunChaos(/*use_pg=*/true, /*restart_nats=*/false);
}

}  // namespace
}  // namespace pantau::outbox
