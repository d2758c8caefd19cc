// One role of the outbox chaos test, run as its own process so the test
// can SIGKILL it at any instruction:
//
//   outbox_chaos_worker producer (sqlite=PATH | pg=CONNINFO) log=PATH
//   outbox_chaos_worker relay    (sqlite=PATH | pg=CONNINFO) nats=URL id=NAME
//   outbox_chaos_worker consumer inbox=PATH nats=URL
//
// The producer commits or rolls back (30%) transactions that insert an
// order and enqueue its message; it logs "C id" / "R id" after each
// outcome. The relay publishes to JetStream. The consumer's inbox records
// one effect row per processed message. Each runs until killed.
#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "pantau/outbox/consumer.h"
#include "pantau/outbox/nats_transport.h"
#include "pantau/outbox/pg_store.h"
#include "pantau/outbox/relay.h"
#include "pantau/outbox/sqlite_store.h"

namespace pantau::outbox {
namespace {

std::map<std::string, std::string> ParseArgs(int argc, char** argv) {
  std::map<std::string, std::string> out;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    if (eq != std::string::npos) out[a.substr(0, eq)] = a.substr(eq + 1);
  }
  return out;
}

int Fail(const absl::Status& s) {
  fprintf(stderr, "chaos worker: %s\n", s.ToString().c_str());
  return 2;
}

NatsOptions Nats(const std::string& url) {
  NatsOptions o;
  o.url = url;
  o.timeout = absl::Seconds(1);
  o.reconnect_wait = absl::Milliseconds(100);
  return o;
}

bool SqliteExec(sqlite3* db, const std::string& sql) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK;
}

bool PgExec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  return ok;
}

int Producer(std::map<std::string, std::string>& args) {
  std::mt19937_64 rng(std::random_device{}());
  std::string run = absl::StrCat(getpid(), "-", rng() % 1000000);
  FILE* log = fopen(args["log"].c_str(), "a");
  if (log == nullptr) return 3;
  setvbuf(log, nullptr, _IOLBF, 0);
  sqlite3* sdb = nullptr;
  PGconn* pg = nullptr;
  std::unique_ptr<SqliteOutbox> sout;
  std::unique_ptr<PgOutbox> pout;
  if (args.contains("pg")) {
    pg = PQconnectdb(args["pg"].c_str());
    if (PQstatus(pg) != CONNECTION_OK) return 4;
    pout = std::make_unique<PgOutbox>(pg);
  } else {
    if (sqlite3_open(args["sqlite"].c_str(), &sdb) != SQLITE_OK) return 4;
    if (!ConfigureSqliteConnection(sdb, absl::Seconds(10)).ok()) return 4;
    sout = std::make_unique<SqliteOutbox>(sdb);
  }
  for (int64_t n = 0;; ++n) {
    std::string id = absl::StrCat(run, "-", n);
    Message m;
    m.topic = "chaos.orders";
    m.key = absl::StrCat("k", rng() % 16);
    m.type = "order.created";
    m.payload = id;
    bool commit = rng() % 10 >= 3;
    bool ok;
    std::string insert =
        absl::StrCat("INSERT INTO orders(id) VALUES ('", id, "')");
    if (pg != nullptr) {
      ok = PgExec(pg, "BEGIN") && PgExec(pg, insert) && pout->Enqueue(m).ok() &&
           PgExec(pg, commit ? "COMMIT" : "ROLLBACK");
      if (!ok) PgExec(pg, "ROLLBACK");
    } else {
      ok = SqliteExec(sdb, "BEGIN IMMEDIATE") && SqliteExec(sdb, insert) &&
           sout->Enqueue(m).ok() &&
           SqliteExec(sdb, commit ? "COMMIT" : "ROLLBACK");
      if (!ok) SqliteExec(sdb, "ROLLBACK");
    }
    if (ok) fprintf(log, "%c %s\n", commit ? 'C' : 'R', id.c_str());
    // About 1000 transactions a second: enough traffic to be killed in the
    // middle of, small enough to drain in seconds.
    usleep(1000);
  }
}

int RelayMain(std::map<std::string, std::string>& args) {
  std::unique_ptr<RelayStore> store;
  if (args.contains("pg")) {
    auto s = PgStore::Open(args["pg"]);
    if (!s.ok()) return Fail(s.status());
    store = std::move(*s);
  } else {
    auto s = SqliteStore::Open(args["sqlite"]);
    if (!s.ok()) return Fail(s.status());
    store = std::move(*s);
  }
  auto transport = NatsTransport::Connect(Nats(args["nats"]));
  // The server may be down at this moment; keep trying (the test kills us
  // if it takes too long).
  while (!transport.ok()) {
    absl::SleepFor(absl::Milliseconds(100));
    transport = NatsTransport::Connect(Nats(args["nats"]));
  }
  RelayOptions o;
  o.relay_id = args["id"];
  o.batch_size = 128;
  o.lease = absl::Seconds(3);
  o.publish_timeout = absl::Seconds(1);
  o.poll_interval = absl::Milliseconds(50);
  o.backoff_initial = absl::Milliseconds(50);
  o.backoff_max = absl::Milliseconds(500);
  o.max_attempts = 1000000;
  Relay relay(store.get(), transport->get(), o);
  relay.Run();
  return 0;
}

int ConsumerMain(std::map<std::string, std::string>& args) {
  sqlite3* db = nullptr;
  if (sqlite3_open(args["inbox"].c_str(), &db) != SQLITE_OK) return 4;
  if (!ConfigureSqliteConnection(db, absl::Seconds(10)).ok()) return 4;
  if (!MigrateSqlite(db).ok()) return 4;
  SqliteExec(db, "CREATE TABLE IF NOT EXISTS effects(order_id TEXT NOT NULL)");
  SqliteExec(db, "CREATE TABLE IF NOT EXISTS dups(n INTEGER NOT NULL)");
  NatsSourceOptions so;
  so.durable = "chaos";
  so.subject = "chaos.>";
  so.ack_wait = absl::Seconds(2);
  auto source = NatsSource::Connect(Nats(args["nats"]), so);
  while (!source.ok()) {
    absl::SleepFor(absl::Milliseconds(100));
    source = NatsSource::Connect(Nats(args["nats"]), so);
  }
  SqliteInbox inbox(db, "chaos-consumer");
  auto handler = [](sqlite3* db, const Message& m) {
    return SqliteExec(db, absl::StrCat("INSERT INTO effects VALUES ('",
                                       m.payload, "')"))
               ? absl::OkStatus()
               : absl::InternalError(sqlite3_errmsg(db));
  };
  auto count_dups = [&](int n) {
    // A statistic only, outside the inbox transaction.
    for (int i = 0; i < n; ++i) SqliteExec(db, "INSERT INTO dups VALUES (1)");
  };
  // Batch mode: one transaction per fetched batch, the path under test.
  Consumer consumer(
      source->get(), "chaos-consumer",
      [&](const Message& m) -> absl::StatusOr<InboxResult> {
        auto r = inbox.Process(m, handler);
        if (r.ok() && *r == InboxResult::kDuplicate) count_dups(1);
        return r;
      },
      {.batch_size = 128,
       .fetch_timeout = absl::Milliseconds(200),
       .retry_delay = absl::Milliseconds(200)},
      [&](const std::vector<const Message*>& ms)
          -> absl::StatusOr<std::vector<InboxResult>> {
        auto r = inbox.ProcessBatch(ms, handler);
        if (r.ok()) {
          count_dups(std::count(r->begin(), r->end(), InboxResult::kDuplicate));
        }
        return r;
      });
  consumer.Run();
  return 0;
}

}  // namespace
}  // namespace pantau::outbox

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr,
            "usage: outbox_chaos_worker producer|relay|consumer k=v...\n");
    return 1;
  }
  auto args = pantau::outbox::ParseArgs(argc, argv);
  std::string mode = argv[1];
  if (mode == "producer") return pantau::outbox::Producer(args);
  if (mode == "relay") return pantau::outbox::RelayMain(args);
  if (mode == "consumer") return pantau::outbox::ConsumerMain(args);
  fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 1;
}
