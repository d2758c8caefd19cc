// End-to-end outbox benchmark: messages per second from enqueue to the
// consumer's committed effect, and the latency distribution, over a real
// nats-server (JetStream) and, for --store=pg, a real PostgreSQL, both
// started here on free ports in temporary directories.
//
//   outbox_e2e_bench --store=sqlite|pg --relays=1|2 --messages=N
//                    [--payload=1024] [--rate=0 (msgs/s, 0 = as fast as
//                    possible)] [--txn=10 (messages per producer
//                    transaction)] [--producers=1] [--consumers=2]
//                    [--warmup=2000] [--retention=0 (delete delivered
//                    rows at delivery instead of keeping them 24 h)]
//                    [--fetch_ms=200 (consumer fetch timeout; it returns
//                    as soon as messages arrive)] [--relay_batch=512]
//                    [--consumer_batch=256] [--pg_statements (print
//                    PostgreSQL's top statements by execution time)]
//                    [--steady=N (first run N messages through and clean
//                    them up as retention would; see SteadyState)]
//                    [--pg_options="-c name=value ..." (PostgreSQL server
//                    options)]
//                    [--stages (each stage alone: all messages are
//                    enqueued first, then the relays publish them all,
//                    then the consumers take them; prints each stage's
//                    rate and CPU)]
//                    [--traceparent=1 (every message carries a W3C
//                    traceparent header, as when it is enqueued inside a
//                    span; 0 sends none)]
//                    [--timeline=MS (per MS of enqueue time: messages,
//                    p50 and max latency; then every relay claim, publish
//                    and complete that took over 20 ms: where a tail
//                    comes from)]
//                    [--nats_procs=1 (GOMAXPROCS of nats-server; 0 leaves
//                    it to Go, one per core; see Flags)]
//                    [--nats_godebug= (GODEBUG of nats-server, e.g.
//                    gctrace=1; none by default)]
//
// Pipeline (all in this process, each stage on its own threads and
// connections): producer transactions insert an `orders` row and enqueue
// its message; relays claim, publish with Nats-Msg-Id and wait for acks;
// consumers fetch from a durable pull consumer and run the inbox
// transaction (record id + insert an effect row; on PostgreSQL one
// statement for the effects of a fetched batch), then ack. Latency is
// measured from just before the enqueue to just after the consumer's
// commit, from a timestamp carried in the payload.
#include <dirent.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <thread>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "pantau/outbox/consumer.h"
#include "pantau/outbox/instrumentation.h"
#include "pantau/outbox/nats_transport.h"
#include "pantau/outbox/pg_store.h"
#include "pantau/outbox/relay.h"
#include "pantau/outbox/sqlite_store.h"
#include "servers.h"

namespace pantau::outbox {
namespace {

struct Flags {
  std::string store = "sqlite";
  int relays = 1;
  int messages = 50000;
  int payload = 1024;
  double rate = 0;
  int txn = 10;
  int consumers = 2;
  int warmup = 2000;
  int producers = 1;
  // Delivered rows: kept for the relay's retention (the default), or
  // deleted at delivery (--retention=0).
  bool keep_delivered = true;
  int fetch_ms = 200;
  int relay_batch = 512;
  int consumer_batch = 256;
  // Where PostgreSQL's time goes: load pg_stat_statements and print each
  // database's top statements at the end.
  bool pg_statements = false;
  // Extra PostgreSQL server options ("-c name=value ...").
  std::string pg_options;
  // Messages run through the whole pipeline before the measured run, then
  // cleaned up as retention would (see SteadyState); 0 measures a fresh
  // database.
  int steady = 0;
  // Each stage alone (see the header).
  bool stages = false;
  // Every message carries a traceparent header, as it does when the
  // producer enqueues inside a span.
  bool traceparent = true;
  // nats-server's GOMAXPROCS: the broker shares these two cores with the
  // services it serves, as a broker beside them on a small host would, and
  // gets one Go processor, as a container limited to one CPU should. With
  // Go's default of one per core its idle processor spins and wakes for
  // work: with one, nats-server used 13-29 % less CPU per message in
  // alternating pairs (bench/results/outbox.md).
  int nats_procs = 1;
  // nats-server's GODEBUG, empty for none: e.g. gctrace=1 (its GC cycles
  // go to its log) or madvdontneed=0 (freed memory returned with
  // MADV_FREE; tried as the default, no clear change in seven alternating
  // pairs, bench/results/outbox.md).
  std::string nats_godebug;
  // Latency by enqueue time in buckets of this many ms; 0 prints none.
  int timeline_ms = 0;
};

// The flags, or nullopt after printing what is wrong: an unknown flag or
// a malformed number is an error rather than a silent default (a typo in
// a flag would otherwise measure the wrong configuration).
std::optional<Flags> Parse(int argc, char** argv) {
  Flags f;
  // Setters by flag name; each says whether its value was valid.
  auto count = [](int* out, int min) {
    return [out, min](const std::string& v) {
      return absl::SimpleAtoi(v, out) && *out >= min;
    };
  };
  auto on = [](bool* out) {
    return [out](const std::string& v) {
      *out = v != "0";
      return true;
    };
  };
  auto text = [](std::string* out) {
    return [out](const std::string& v) {
      *out = v;
      return true;
    };
  };
  const std::map<std::string, std::function<bool(const std::string&)>> set = {
      {"--store",
       [&](const std::string& v) {
         f.store = v;
         return v == "sqlite" || v == "pg";
       }},
      {"--relays", count(&f.relays, 1)},
      {"--messages", count(&f.messages, 1)},
      {"--payload", count(&f.payload, 0)},
      {"--rate",
       [&](const std::string& v) {
         return absl::SimpleAtod(v, &f.rate) && f.rate >= 0;
       }},
      {"--txn", count(&f.txn, 1)},
      {"--consumers", count(&f.consumers, 1)},
      {"--warmup", count(&f.warmup, 0)},
      {"--producers", count(&f.producers, 1)},
      {"--retention", on(&f.keep_delivered)},
      {"--fetch_ms", count(&f.fetch_ms, 1)},
      {"--relay_batch", count(&f.relay_batch, 1)},
      {"--consumer_batch", count(&f.consumer_batch, 1)},
      {"--pg_statements", on(&f.pg_statements)},
      {"--pg_options", text(&f.pg_options)},
      {"--steady", count(&f.steady, 0)},
      {"--stages", on(&f.stages)},
      {"--traceparent", on(&f.traceparent)},
      {"--nats_procs", count(&f.nats_procs, 0)},
      {"--nats_godebug", text(&f.nats_godebug)},
      {"--timeline", count(&f.timeline_ms, 0)},
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    size_t eq = a.find('=');
    std::string k = a.substr(0, eq),
                v = eq == std::string::npos ? "" : a.substr(eq + 1);
    auto it = set.find(k);
    if (it == set.end()) {
      fprintf(stderr,
              "unknown flag %s (the usage is at the top of "
              "bench/outbox/outbox_e2e_bench.cc)\n",
              k.c_str());
      return std::nullopt;
    }
    if (!it->second(v)) {
      fprintf(stderr, "bad value for %s: \"%s\"\n", k.c_str(), v.c_str());
      return std::nullopt;
    }
  }
  return f;
}

int64_t NowNs() { return absl::GetCurrentTimeNanos(); }

// CPU accounting, so a run on a shared machine still says what the
// pipeline costs: seconds of CPU of this process, of nats-server (our
// child) and of the PostgreSQL cluster (the postmaster, its live backends,
// and the backends that have exited, through the postmaster's cutime).
struct ProcStat {
  pid_t ppid = 0;
  double cpu = 0;       // utime + stime
  double children = 0;  // cutime + cstime (waited-for children)
};

bool ReadProcStat(pid_t pid, ProcStat* out) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string line;
  if (!std::getline(in, line)) return false;
  size_t close = line.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> f;
  std::string tok;
  while (rest >> tok) f.push_back(tok);
  if (f.size() < 15) return false;  // f[0] is field 3 (state)
  double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  out->ppid = std::stoi(f[1]);
  out->cpu = (std::stod(f[11]) + std::stod(f[12])) / tick;
  out->children = (std::stod(f[13]) + std::stod(f[14])) / tick;
  return true;
}

// CPU seconds of `root` and its live children (plus what its exited,
// waited-for children used), skipping `self`.
double TreeCpu(pid_t root, pid_t self = -1) {
  double total = 0;
  ProcStat st;
  if (ReadProcStat(root, &st)) total += st.cpu + st.children;
  DIR* d = opendir("/proc");
  if (d == nullptr) return total;
  while (dirent* e = readdir(d)) {
    pid_t pid = atoi(e->d_name);
    if (pid <= 0 || pid == self) continue;
    if (ReadProcStat(pid, &st) && st.ppid == root) {
      total += st.cpu + st.children;
    }
  }
  closedir(d);
  return total;
}

double SelfCpu() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

struct CpuSnapshot {
  double self = 0, children = 0, pg = 0;
};

CpuSnapshot TakeCpu(pid_t postmaster) {
  CpuSnapshot c;
  c.self = SelfCpu();
  // nats-server is our own child; its children are none.
  c.children = TreeCpu(getpid(), getpid()) - c.self;
  ProcStat me;
  if (ReadProcStat(getpid(), &me)) c.children -= me.children;
  if (postmaster > 0) c.pg = TreeCpu(postmaster);
  return c;
}

// Where a relay's time goes: wraps its store and transport and sums the
// wall time of each call.
struct StageTimes {
  std::atomic<int64_t> claim_ns{0}, publish_ns{0}, complete_ns{0}, rounds{0};
  // Relay calls slower than kSlowNs, for --timeline: (start, what, ns).
  static constexpr int64_t kSlowNs = 20'000'000;
  absl::Mutex slow_mu;
  std::vector<std::tuple<int64_t, const char*, int64_t>> slow
      ABSL_GUARDED_BY(slow_mu);
  // Adds the duration of the call that began at `start` to `sum`, and
  // keeps the call if it was slow.
  void Add(std::atomic<int64_t>& sum, const char* what, int64_t start) {
    int64_t ns = NowNs() - start;
    sum += ns;
    if (ns > kSlowNs) {
      absl::MutexLock lock(&slow_mu);
      slow.emplace_back(start, what, ns);
    }
  }
};

class TimedStore : public RelayStore {
 public:
  TimedStore(std::unique_ptr<RelayStore> inner, StageTimes* t)
      : inner_(std::move(inner)), t_(t) {}
  absl::StatusOr<std::vector<Message>> Claim(std::string_view owner, int limit,
                                             absl::Time now,
                                             absl::Duration lease) override {
    int64_t start = NowNs();
    auto r = inner_->Claim(owner, limit, now, lease);
    t_->Add(t_->claim_ns, "claim", start);
    if (r.ok() && !r->empty()) ++t_->rounds;
    return r;
  }
  absl::Status Complete(std::string_view owner,
                        const std::vector<Outcome>& outcomes,
                        absl::Time now) override {
    int64_t start = NowNs();
    auto r = inner_->Complete(owner, outcomes, now);
    t_->Add(t_->complete_ns, "complete", start);
    return r;
  }
  absl::StatusOr<OutboxStats> Stats(absl::Time now) override {
    return inner_->Stats(now);
  }
  void SetKeepDelivered(bool keep) override { inner_->SetKeepDelivered(keep); }
  bool CanClaimAhead() const override { return inner_->CanClaimAhead(); }
  absl::StatusOr<std::vector<Message>> ListDead(
      int limit, std::string_view after) override {
    return inner_->ListDead(limit, after);
  }
  absl::StatusOr<int64_t> Replay(const std::vector<std::string>& ids,
                                 absl::Time now) override {
    return inner_->Replay(ids, now);
  }
  absl::StatusOr<int64_t> CleanupDelivered(absl::Time before,
                                           int64_t limit) override {
    return inner_->CleanupDelivered(before, limit);
  }
  absl::StatusOr<int64_t> CleanupInbox(absl::Time before,
                                       int64_t limit) override {
    return inner_->CleanupInbox(before, limit);
  }
  absl::Status WaitForWork(absl::Duration timeout) override {
    return inner_->WaitForWork(timeout);
  }
  void Wake() override { inner_->Wake(); }

 private:
  std::unique_ptr<RelayStore> inner_;
  StageTimes* t_;
};

class TimedTransport : public Transport {
 public:
  TimedTransport(std::unique_ptr<Transport> inner, StageTimes* t)
      : inner_(std::move(inner)), t_(t) {}
  std::string_view system() const override { return inner_->system(); }
  std::vector<absl::Status> Publish(const std::vector<Message>& batch,
                                    absl::Duration timeout) override {
    int64_t start = NowNs();
    auto r = inner_->Publish(batch, timeout);
    t_->Add(t_->publish_ns, "publish", start);
    return r;
  }

 private:
  std::unique_ptr<Transport> inner_;
  StageTimes* t_;
};

bool Sql(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}
bool Sql(PGconn* c, const char* sql) {
  PGresult* r = PQexec(c, sql);
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
            PQresultStatus(r) == PGRES_TUPLES_OK;
  if (!ok) fprintf(stderr, "pg: %s", PQerrorMessage(c));
  PQclear(r);
  return ok;
}

// The statements that took the most execution time in each database
// (statements inside functions included), on stderr.
void PrintTopStatements(const std::vector<std::string>& dbs) {
  for (const std::string& db : dbs) {
    PGconn* c = PQconnectdb(db.c_str());
    PGresult* r = PQexec(
        c,
        "SELECT round(total_exec_time::numeric), calls, rows, "
        "left(regexp_replace(query, '\\s+', ' ', 'g'), 150) "
        "FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database "
        "WHERE datname = current_database()) "
        "ORDER BY total_exec_time DESC LIMIT 12");
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
      fprintf(stderr, "pg_stat_statements: %s", PQerrorMessage(c));
    }
    for (int i = 0; i < PQntuples(r); ++i) {
      fprintf(stderr, "%8s ms %7s calls %8s rows  %s\n", PQgetvalue(r, i, 0),
              PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3));
    }
    PQclear(r);
    PQfinish(c);
  }
  // The WAL the whole cluster wrote (both databases, since its start).
  PGconn* c = PQconnectdb(dbs.front().c_str());
  PGresult* r = PQexec(c,
                       "SELECT wal_records, wal_fpi, "
                       "pg_size_pretty(wal_bytes) FROM pg_stat_wal");
  if (PQntuples(r) == 1) {
    fprintf(stderr, "wal: %s records, %s full-page images, %s\n",
            PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2));
  }
  PQclear(r);
  PQfinish(c);
}

// Brings the databases to the state a long-running service is in after
// --steady messages: what retention would delete by now is deleted (the
// delivered outbox rows, the inbox records, and the business rows of the
// benchmark's own tables), vacuumed without giving the space back, and
// (PostgreSQL) checkpointed. The measured run then reuses that table space
// and the recycled WAL segments, as a service does, where a fresh database
// grows new files page by page (on this VM each page of memory the host
// took back costs ~9 us to touch again: writing 512 MiB to a new file took
// 1.2 s, again at once 0.15 s). Measured, the two did not differ beyond
// this machine's noise; the steady run found what a fresh one cannot, a
// plan made while the outbox was empty (schema 8).
// Calls `chunk` with a row limit until it deletes fewer; false on error.
template <typename F>
bool CleanupAll(F&& chunk) {
  while (true) {
    absl::StatusOr<int64_t> n = chunk(100000);
    if (!n.ok()) return false;
    if (*n < 100000) return true;
  }
}

bool SteadyState(bool pg, const std::string& producer_db,
                 const std::string& consumer_db) {
  auto open = [&](const std::string& db) -> std::unique_ptr<RelayStore> {
    if (pg) {
      auto s = PgStore::Open(db);
      return s.ok() ? std::move(*s) : nullptr;
    }
    auto s = SqliteStore::Open(db);
    return s.ok() ? std::move(*s) : nullptr;
  };
  std::unique_ptr<RelayStore> producer = open(producer_db),
                              consumer = open(consumer_db);
  if (producer == nullptr || consumer == nullptr) return false;
  absl::Time later = absl::Now() + absl::Hours(1);
  int64_t t0 = NowNs();
  if (!CleanupAll(
          [&](int64_t n) { return producer->CleanupDelivered(later, n); })) {
    return false;
  }
  int64_t t1 = NowNs();
  if (!CleanupAll(
          [&](int64_t n) { return consumer->CleanupInbox(later, n); })) {
    return false;
  }
  fprintf(stderr, "steady: CleanupDelivered %.0f ms, CleanupInbox %.0f ms\n",
          (t1 - t0) / 1e6, (NowNs() - t1) / 1e6);
  if (pg) {
    for (const std::string& db : {producer_db, consumer_db}) {
      PGconn* c = PQconnectdb(db.c_str());
      bool ok = Sql(c, "DELETE FROM orders") && Sql(c, "DELETE FROM effects") &&
                Sql(c, "VACUUM (TRUNCATE false)") && Sql(c, "CHECKPOINT");
      PQfinish(c);
      if (!ok) return false;
    }
    return true;
  }
  for (RelayStore* store : {producer.get(), consumer.get()}) {
    sqlite3* db = static_cast<SqliteStore*>(store)->db();
    if (!Sql(db, "DELETE FROM orders") || !Sql(db, "DELETE FROM effects")) {
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  // Run under `flock /tmp/pantau-bench.lock`, this process inherits the
  // lock's descriptor; servers started here must not, or one orphaned by a
  // crash keeps the shared lock held for everybody.
  for (int fd = 3; fd < 1024; ++fd) fcntl(fd, F_SETFD, FD_CLOEXEC);
  std::optional<Flags> parsed = Parse(argc, argv);
  if (!parsed.has_value()) return 2;
  const Flags& f = *parsed;
  bool pg = f.store == "pg";
  if (f.stages && f.steady > 0) {
    fprintf(stderr, "--stages and --steady do not go together\n");
    return 1;
  }
  std::vector<std::string> nats_env;
  if (f.nats_procs > 0) {
    nats_env.push_back(absl::StrCat("GOMAXPROCS=", f.nats_procs));
  }
  if (!f.nats_godebug.empty()) {
    nats_env.push_back(absl::StrCat("GODEBUG=", f.nats_godebug));
  }
  auto nats = testing::NatsServer::Start(nats_env);
  if (!nats.ok()) {
    fprintf(stderr, "nats: %s\n", nats.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<testing::Postgres> postgres;
  pid_t postmaster = -1;
  std::string producer_db, consumer_db;
  testing::ScopedTempDir scoped_dir("outbox_bench");
  const std::string& dir = scoped_dir.path();
  if (pg) {
    auto p = testing::Postgres::Start(absl::StrCat(
        f.pg_statements ? "-c shared_preload_libraries=pg_stat_statements "
                          "-c pg_stat_statements.track=all "
                        : "",
        f.pg_options));
    if (!p.ok()) {
      fprintf(stderr, "postgres: %s\n", p.status().ToString().c_str());
      return 1;
    }
    postgres = std::move(*p);
    producer_db = *postgres->NewDatabase();
    consumer_db = *postgres->NewDatabase();
    {
      // The postmaster is the parent of any backend.
      PGconn* c = PQconnectdb(producer_db.c_str());
      ProcStat st;
      if (ReadProcStat(PQbackendPID(c), &st)) postmaster = st.ppid;
      PQfinish(c);
    }
    for (const std::string& db : {producer_db, consumer_db}) {
      PGconn* c = PQconnectdb(db.c_str());
      if (!MigratePg(c).ok()) return 1;
      if (f.pg_statements) {
        Sql(c, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      }
      Sql(c, "CREATE TABLE orders (id BIGINT PRIMARY KEY)");
      Sql(c, "CREATE TABLE effects (id BIGINT NOT NULL)");
      PQfinish(c);
    }
  } else {
    producer_db = dir + "/producer.db";
    consumer_db = dir + "/consumer.db";
    for (const std::string& path : {producer_db, consumer_db}) {
      auto s = SqliteStore::Open(path);
      if (!s.ok()) return 1;
      Sql((*s)->db(), "CREATE TABLE orders (id INTEGER PRIMARY KEY)");
      Sql((*s)->db(), "CREATE TABLE effects (id INTEGER NOT NULL)");
    }
  }
  NatsOptions nopts;
  nopts.url = (*nats)->url();
  nopts.stream = "BENCH";
  nopts.subjects = {"bench.>"};
  {
    auto t = NatsTransport::Connect(nopts);
    if (!t.ok()) {
      fprintf(stderr, "nats: %s\n", t.status().ToString().c_str());
      return 1;
    }
  }

  const int total = f.warmup + f.messages;
  // Ids of the measured run start here (after the --steady messages).
  const int base = f.steady;
  OutboxCounters counters;
  SetInstrumentation(&counters);
  std::atomic<int> produced{0};
  std::atomic<int> consumed{0};
  // Fetches that returned messages, and how many they returned.
  std::atomic<int64_t> fetches{0}, fetched{0};
  std::atomic<int64_t> first_measured_ns{0}, last_ns{0};
  absl::Mutex lat_mu;
  std::vector<int64_t> latencies;
  latencies.reserve(f.messages);
  // (enqueue time, latency) of each measured message, for --timeline.
  std::vector<std::pair<int64_t, int64_t>> timeline;

  // Consumers.
  std::atomic<bool> stop{false};
  // With --stages, relays and consumers wait for their turn here.
  std::atomic<bool> relays_go{!f.stages}, consumers_go{!f.stages};
  auto wait_turn = [&](const std::atomic<bool>& go) {
    while (!go.load() && !stop.load()) absl::SleepFor(absl::Milliseconds(1));
  };
  std::vector<std::thread> threads;
  for (int c = 0; c < f.consumers; ++c) {
    threads.emplace_back([&, c] {
      pthread_setname_np(pthread_self(), "consumer");
      wait_turn(consumers_go);
      NatsSourceOptions so;
      so.durable = "bench";
      so.subject = "bench.>";
      so.max_ack_pending = 50000;
      auto source = NatsSource::Connect(nopts, so);
      if (!source.ok()) {
        fprintf(stderr, "source: %s\n", source.status().ToString().c_str());
        return;
      }
      sqlite3* sdb = nullptr;
      PGconn* pconn = nullptr;
      std::unique_ptr<SqliteInbox> sin;
      std::unique_ptr<PgInbox> pin;
      if (pg) {
        pconn = PQconnectdb(consumer_db.c_str());
        pin = std::make_unique<PgInbox>(pconn, "bench");
      } else {
        sqlite3_open(consumer_db.c_str(), &sdb);
        ConfigureSqliteConnection(sdb, absl::Seconds(30)).IgnoreError();
        sin = std::make_unique<SqliteInbox>(sdb, "bench");
      }
      std::vector<int64_t> local;
      std::vector<std::pair<int64_t, int64_t>> local_timeline;
      auto record = [&](const Message& m) {
        int64_t id = 0, sent = 0;
        char* end = nullptr;
        id = strtoll(m.payload.c_str(), &end, 10);
        sent = strtoll(end, nullptr, 10);
        int64_t now = NowNs();
        if (id >= base + f.warmup) {
          local.push_back(now - sent);
          if (f.timeline_ms > 0) local_timeline.emplace_back(sent, now - sent);
          int64_t zero = 0;
          first_measured_ns.compare_exchange_strong(zero, sent);
        }
        last_ns.store(now);
        consumed.fetch_add(1);
      };
      // The consumer's own effect: one row per message, through a prepared
      // statement (as a consumer that cares about speed would write it).
      sqlite3_stmt* effect = nullptr;
      if (pg) {
        PQclear(PQprepare(pconn, "effect", "INSERT INTO effects VALUES ($1)", 1,
                          nullptr));
        PQclear(PQprepare(pconn, "effects",
                          "INSERT INTO effects SELECT unnest($1::bigint[])", 1,
                          nullptr));
      } else {
        sqlite3_prepare_v2(sdb, "INSERT INTO effects VALUES (?1)", -1, &effect,
                           nullptr);
      }
      auto effect_id = [](const Message& m) {
        int64_t id = 0;
        id = strtoll(m.payload.c_str(), nullptr, 10);
        return id;
      };
      auto pg_handler = [&](PGconn* c, const Message& m) {
        std::string id = absl::StrCat(effect_id(m));
        const char* v[1] = {id.c_str()};
        PGresult* r = PQexecPrepared(c, "effect", 1, v, nullptr, nullptr, 0);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return ok ? absl::OkStatus() : absl::InternalError("effect");
      };
      // A batch's effects in one statement (one round trip per batch, not
      // per message): what PgInbox's BatchHandler is for.
      auto pg_batch_handler = [&](PGconn* c,
                                  const std::vector<const Message*>& ms) {
        std::string ids = "{";
        for (size_t i = 0; i < ms.size(); ++i) {
          absl::StrAppend(&ids, i > 0 ? "," : "", effect_id(*ms[i]));
        }
        ids += "}";
        const char* v[1] = {ids.c_str()};
        PGresult* r = PQexecPrepared(c, "effects", 1, v, nullptr, nullptr, 0);
        bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return ok ? absl::OkStatus() : absl::InternalError("effects");
      };
      auto sqlite_handler = [&](sqlite3* db, const Message& m) {
        sqlite3_reset(effect);
        sqlite3_bind_int64(effect, 1, effect_id(m));
        int rc = sqlite3_step(effect);
        sqlite3_reset(effect);
        return rc == SQLITE_DONE ? absl::OkStatus()
                                 : absl::InternalError(sqlite3_errmsg(db));
      };
      auto single = [&](const Message& m) -> absl::StatusOr<InboxResult> {
        absl::StatusOr<InboxResult> r =
            pg ? pin->Process(m, pg_handler) : sin->Process(m, sqlite_handler);
        if (r.ok() && *r == InboxResult::kProcessed) record(m);
        return r;
      };
      auto batch = [&](const std::vector<const Message*>& ms)
          -> absl::StatusOr<std::vector<InboxResult>> {
        auto r = pg ? pin->ProcessBatch(ms, pg_batch_handler)
                    : sin->ProcessBatch(ms, sqlite_handler);
        if (r.ok()) {
          for (size_t i = 0; i < ms.size(); ++i) {
            if ((*r)[i] == InboxResult::kProcessed) record(*ms[i]);
          }
        }
        return r;
      };
      Consumer consumer(source->get(), "bench", single,
                        {.batch_size = f.consumer_batch,
                         .fetch_timeout = absl::Milliseconds(f.fetch_ms),
                         .retry_delay = absl::Milliseconds(100)},
                        batch);
      while (!stop.load()) {
        absl::StatusOr<int> n = consumer.PollOnce();
        if (n.ok() && *n > 0) {
          fetches.fetch_add(1);
          fetched.fetch_add(*n);
        }
      }
      absl::MutexLock lock(&lat_mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
      timeline.insert(timeline.end(), local_timeline.begin(),
                      local_timeline.end());
      sqlite3_finalize(effect);
      if (pconn != nullptr) PQfinish(pconn);
      if (sdb != nullptr) sqlite3_close(sdb);
    });
  }

  // Relays.
  StageTimes times;
  std::vector<std::unique_ptr<RelayStore>> stores;
  std::vector<std::unique_ptr<Transport>> transports;
  std::vector<std::unique_ptr<Relay>> relays;
  for (int r = 0; r < f.relays; ++r) {
    std::unique_ptr<RelayStore> inner;
    if (pg) {
      inner = std::move(*PgStore::Open(producer_db));
    } else {
      inner = std::move(*SqliteStore::Open(producer_db));
    }
    stores.push_back(std::make_unique<TimedStore>(std::move(inner), &times));
    transports.push_back(std::make_unique<TimedTransport>(
        std::move(*NatsTransport::Connect(nopts)), &times));
    RelayOptions o;
    o.relay_id = absl::StrCat("relay", r);
    o.batch_size = f.relay_batch;
    if (!f.keep_delivered) o.retention = absl::ZeroDuration();
    // SQLite has no NOTIFY: a short idle poll bounds the added latency.
    o.poll_interval = pg ? absl::Milliseconds(200) : absl::Milliseconds(5);
    relays.push_back(std::make_unique<Relay>(stores.back().get(),
                                             transports.back().get(), o));
  }
  for (auto& r : relays) {
    threads.emplace_back([&] {
      pthread_setname_np(pthread_self(), "relay");
      wait_turn(relays_go);
      r->Run();
    });
  }

  // Progress per second on stderr: where a queue builds up shows the
  // slowest stage.
  std::thread progress([&] {
    while (!stop.load()) {
      absl::SleepFor(absl::Seconds(1));
      fprintf(
          stderr, "produced=%d published=%lld consumed=%d\n", produced.load(),
          static_cast<long long>(counters.published.load()), consumed.load());
    }
  });

  // Producers: each its own connection, transactions of --txn messages,
  // transaction t going to producer t % --producers.
  std::string filler(f.payload, 'x');
  int64_t start_ns = NowNs();
  std::atomic<bool> failed{false};
  // Produces ids [first, first + count).
  auto produce = [&](int p, int first, int count) {
    pthread_setname_np(pthread_self(), "producer");
    sqlite3* sdb = nullptr;
    PGconn* pconn = nullptr;
    sqlite3_stmt* order = nullptr;
    std::unique_ptr<SqliteOutbox> sout;
    std::unique_ptr<PgOutbox> pout;
    if (pg) {
      pconn = PQconnectdb(producer_db.c_str());
      pout = std::make_unique<PgOutbox>(pconn);
      // The business write of a transaction, prepared and in one
      // statement, as the consumer's effects are.
      PQclear(PQprepare(pconn, "orders",
                        "INSERT INTO orders SELECT unnest($1::bigint[])", 1,
                        nullptr));
    } else {
      sqlite3_open(producer_db.c_str(), &sdb);
      ConfigureSqliteConnection(sdb, absl::Seconds(30)).IgnoreError();
      sqlite3_prepare_v2(sdb, "INSERT INTO orders VALUES (?1)", -1, &order,
                         nullptr);
      sout = std::make_unique<SqliteOutbox>(sdb);
    }
    int txns = (count + f.txn - 1) / f.txn;
    const int last = first + count;
    for (int t = p; t < txns && !failed.load(); t += f.producers) {
      int i = first + t * f.txn;
      if (f.rate > 0) {
        int64_t due =
            start_ns + static_cast<int64_t>((i - first) / f.rate * 1e9);
        int64_t wait = due - NowNs();
        if (wait > 0) absl::SleepFor(absl::Nanoseconds(wait));
      }
      pg ? Sql(pconn, "BEGIN") : Sql(sdb, "BEGIN IMMEDIATE");
      int end = std::min(last, i + f.txn);
      std::vector<Message> batch;
      std::string orders = "{";
      for (int j = i; j < end; ++j) {
        if (pg) {
          absl::StrAppend(&orders, j > i ? "," : "", j);
        } else {
          sqlite3_reset(order);
          sqlite3_bind_int64(order, 1, j);
          sqlite3_step(order);
        }
        Message& m = batch.emplace_back();
        m.topic = "bench.orders";
        m.key = absl::StrCat("customer-", j % 1000);
        m.type = "order.created";
        if (f.traceparent) {
          // What the library's tracing puts on a message enqueued inside a
          // span: a distinct trace per order.
          m.headers[kTraceparentHeader] = absl::StrFormat(
              "00-%032x-%016x-01", static_cast<uint64_t>(j) + 1, uint64_t{7});
        }
        m.payload = absl::StrCat(j, " ", NowNs(), " ");
        m.payload +=
            filler.substr(0, std::max<int>(0, f.payload - m.payload.size()));
      }
      if (pg) {
        orders += "}";
        const char* v[1] = {orders.c_str()};
        PGresult* r =
            PQexecPrepared(pconn, "orders", 1, v, nullptr, nullptr, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
          fprintf(stderr, "orders: %s", PQerrorMessage(pconn));
          failed.store(true);
        }
        PQclear(r);
      }
      absl::Status s =
          pg ? pout->EnqueueBatch(batch) : sout->EnqueueBatch(batch);
      if (!s.ok()) {
        fprintf(stderr, "enqueue: %s\n", s.ToString().c_str());
        failed.store(true);
        return;
      }
      pg ? Sql(pconn, "COMMIT") : Sql(sdb, "COMMIT");
      produced.fetch_add(end - i);
    }
    sqlite3_finalize(order);
    if (pconn != nullptr) PQfinish(pconn);
    if (sdb != nullptr) sqlite3_close(sdb);
  };
  auto run_producers = [&](int first, int count) {
    std::vector<std::thread> producers;
    for (int p = 0; p < f.producers; ++p) {
      producers.emplace_back(produce, p, first, count);
    }
    for (auto& t : producers) t.join();
  };
  auto wait_consumed = [&](int n) {
    absl::Time deadline = absl::Now() + absl::Minutes(5);
    while (consumed.load() < n && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return consumed.load() >= n;
  };
  if (f.steady > 0) {
    CpuSnapshot c0 = TakeCpu(postmaster);
    run_producers(0, f.steady);
    if (failed.load() || !wait_consumed(f.steady)) return 1;
    CpuSnapshot c1 = TakeCpu(postmaster);
    double secs = (NowNs() - start_ns) / 1e9;
    fprintf(stderr,
            "steady: the first %d messages (fresh database) at %.0f msg/s, "
            "%.0f us CPU per message\n",
            f.steady, f.steady / secs,
            (c1.self + c1.children + c1.pg - c0.self - c0.children - c0.pg) /
                f.steady * 1e6);
    int64_t cleanup_start = NowNs();
    if (!SteadyState(pg, producer_db, consumer_db)) return 1;
    fprintf(stderr, "steady: cleanup, vacuum and checkpoint took %.0f ms\n",
            (NowNs() - cleanup_start) / 1e6);
  }
  CpuSnapshot cpu_start = TakeCpu(postmaster);
  start_ns = NowNs();
  run_producers(base, total);
  if (failed.load()) return 1;
  int64_t produced_ns = NowNs();
  if (f.stages) {
    // Each stage alone on the machine: the producers are done, so the
    // relays publish the whole backlog, and then the consumers take it.
    auto stage = [&](const char* name, int64_t from_ns, const CpuSnapshot& a,
                     const CpuSnapshot& b) {
      double secs = (NowNs() - from_ns) / 1e9;
      fprintf(stderr,
              "stage %s: %d messages in %.2f s = %.0f msg/s, CPU %.0f us per "
              "message (bench %.2fs, nats-server %.2fs, postgres %.2fs)\n",
              name, total, secs, total / secs,
              (b.self + b.children + b.pg - a.self - a.children - a.pg) /
                  total * 1e6,
              b.self - a.self, b.children - a.children, b.pg - a.pg);
    };
    CpuSnapshot produced_cpu = TakeCpu(postmaster);
    stage("produce", start_ns, cpu_start, produced_cpu);
    int64_t relay_ns = NowNs();
    relays_go.store(true);
    absl::Time deadline = absl::Now() + absl::Minutes(5);
    while (counters.published.load() < base + total && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    CpuSnapshot published_cpu = TakeCpu(postmaster);
    stage("relay", relay_ns, produced_cpu, published_cpu);
    int64_t consume_ns = NowNs();
    consumers_go.store(true);
    wait_consumed(base + total);
    stage("consume", consume_ns, published_cpu, TakeCpu(postmaster));
  }
  wait_consumed(base + total);
  CpuSnapshot cpu_end = TakeCpu(postmaster);
  if (pg && f.pg_statements) PrintTopStatements({producer_db, consumer_db});
  stop.store(true);
  for (auto& r : relays) r->Stop();
  for (auto& t : threads) t.join();
  progress.join();
  SetInstrumentation(nullptr);

  std::sort(latencies.begin(), latencies.end());
  fprintf(stderr, "consumer fetches=%lld (%.1f messages each)\n",
          static_cast<long long>(fetches.load()),
          fetched.load() / std::max<double>(1, fetches.load()));
  fprintf(stderr,
          "relay rounds=%lld claim=%.0fms publish=%.0fms complete=%.0fms "
          "(summed over relays)\n",
          static_cast<long long>(times.rounds.load()), times.claim_ns / 1e6,
          times.publish_ns / 1e6, times.complete_ns / 1e6);
  auto pct = [&](double p) {
    if (latencies.empty()) return 0.0;
    size_t i = std::min(latencies.size() - 1,
                        static_cast<size_t>(p * latencies.size()));
    return latencies[i] / 1e6;
  };
  if (f.timeline_ms > 0 && !timeline.empty()) {
    std::sort(timeline.begin(), timeline.end());
    const int64_t bucket = int64_t{f.timeline_ms} * 1000000;
    const int64_t t0 = timeline.front().first;
    fprintf(stderr,
            "timeline (ms from the first measured enqueue, at %lld ms "
            "since the epoch):\n",
            static_cast<long long>(t0 / 1000000));
    for (size_t i = 0; i < timeline.size();) {
      int64_t b = (timeline[i].first - t0) / bucket;
      std::vector<int64_t> lat;
      for (; i < timeline.size() && (timeline[i].first - t0) / bucket == b;
           ++i) {
        lat.push_back(timeline[i].second);
      }
      std::sort(lat.begin(), lat.end());
      fprintf(stderr, "  %6lld  n=%5zu  p50 %7.1f  max %7.1f ms\n",
              static_cast<long long>(b * f.timeline_ms), lat.size(),
              lat[lat.size() / 2] / 1e6, lat.back() / 1e6);
    }
    absl::MutexLock lock(&times.slow_mu);
    std::sort(times.slow.begin(), times.slow.end());
    for (const auto& [start, what, ns] : times.slow) {
      fprintf(stderr, "  relay %s at %lld ms took %.1f ms\n", what,
              static_cast<long long>((start - t0) / 1000000), ns / 1e6);
    }
  }
  double secs = (last_ns.load() - first_measured_ns.load()) / 1e9;
  double cpu_self = cpu_end.self - cpu_start.self,
         cpu_nats = cpu_end.children - cpu_start.children,
         cpu_pg = cpu_end.pg - cpu_start.pg;
  double cpu_us = (cpu_self + cpu_nats + cpu_pg) / total * 1e6;
  fprintf(stderr,
          "cpu: bench %.2fs, nats-server %.2fs, postgres %.2fs = %.0f us per "
          "message (all %d messages)\n",
          cpu_self, cpu_nats, cpu_pg, cpu_us, total);
  double produce_secs = (produced_ns - start_ns) / 1e9;
  printf(
      "| %s | %d | %d | %d | %d | %s | %.0f | %.0f | %.1f | %.1f | %.1f | "
      "%.0f |\n",
      f.store.c_str(), f.relays, f.producers, f.consumers, f.messages,
      f.rate > 0 ? absl::StrCat(static_cast<int>(f.rate)).c_str() : "max",
      consumed.load() >= base + total ? f.messages / secs : 0.0,
      total / produce_secs, pct(0.5), pct(0.99), pct(0.999), cpu_us);
  if (consumed.load() < base + total) {
    fprintf(stderr, "only %d of %d consumed before the deadline\n",
            consumed.load() - base, total);
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace pantau::outbox

int main(int argc, char** argv) { return pantau::outbox::Main(argc, argv); }
