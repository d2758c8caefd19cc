// tsdb_restart_bench [--series N] [--scrapes S] [--dir PATH] [--reopen K]
//                    [--keep] [--no-build] [--no-wal] [--threads T]
// How long DB::Open takes with a full head, on the ingest benchmark's
// workload (bench/ingest/workload.h: node_exporter-like label sets):
//   1. builds a data dir of N series x S scrapes (15 s apart) through the
//      Appender, WAL without fsync, and closes it (head snapshot);
//   2. opens it K times (snapshot_on_close off, so every open loads the same
//      snapshot) and prints wall and CPU time of each open;
//   3. the same after a crash (kill -9 equivalent: no snapshot), so the WAL
//      segments are replayed.
// --no-build reuses the data dir of an earlier --keep run (for perf record).
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/env.h"
#include "base/labels.h"
#include "base/log.h"
#include "metrics/tsdb/db.h"
#include "workload.h"

using namespace pantau;
using namespace pantau::metrics;

namespace {

double CpuNow() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double WallNow() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int g_threads = 0;  // --threads: Options::replay_threads

std::unique_ptr<tsdb::DB> OpenDb(const std::string& dir, bool snapshot) {
  tsdb::Options o;
  o.replay_threads = g_threads;
  o.dir = dir;
  o.maintenance_interval = absl::ZeroDuration();
  o.wal.fsync = tsdb::FsyncPolicy::kNever;
  o.snapshot_on_close = snapshot;
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*db);
}

void Build(const std::string& dir, int64_t series, int scrapes, bool snapshot) {
  (void)base::Env::Default()->DeleteRecursively(dir);
  auto catalog = bench::BuildCatalog(series);
  std::vector<base::Labels> labels;
  std::vector<bench::SeriesState> states;
  labels.reserve(catalog.size());
  states.reserve(catalog.size());
  for (size_t i = 0; i < catalog.size(); ++i) {
    std::vector<base::Label> pairs;
    for (const auto& [k, v] : catalog[i].labels) pairs.push_back({k, v});
    labels.push_back(*base::Labels::FromPairs(std::move(pairs)));
    states.emplace_back(catalog[i], i + 1);
  }
  auto db = OpenDb(dir, snapshot);
  std::vector<SeriesRef> refs(catalog.size(), 0);
  // Scrapes end just before "now" like the ingest benchmark's, and stay
  // within one 2 h block range so no block is cut.
  const int64_t t0 = 1700000000000;
  for (int s = 0; s < scrapes; ++s) {
    auto app = db->NewAppender();
    size_t in_batch = 0;
    for (size_t i = 0; i < catalog.size(); ++i) {
      auto r =
          app->Append(refs[i], labels[i], t0 + s * 15000, states[i].Next(15.0));
      if (!r.ok()) {
        std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
        std::exit(1);
      }
      refs[i] = *r;
      if (++in_batch == 10000) {
        (void)app->Commit();
        app = db->NewAppender();
        in_batch = 0;
      }
    }
    (void)app->Commit();
  }
  if (snapshot) {
    (void)db->Close();
  } else {
    db->CrashForTesting();
  }
}

void TimeOpens(const char* what, const std::string& dir, int reopen) {
  for (int k = 0; k < reopen; ++k) {
    const double w = WallNow(), c = CpuNow();
    auto db = OpenDb(dir, false);
    const double wall = WallNow() - w, cpu = CpuNow() - c;
    std::printf("| %s, open %d | %lld series | %.0f ms wall | %.0f CPU-ms |\n",
                what, k + 1, static_cast<long long>(db->GetStats().head_series),
                wall * 1e3, cpu * 1e3);
    std::fflush(stdout);
    db->CrashForTesting();  // leave the dir exactly as it was
  }
}

}  // namespace

int main(int argc, char** argv) {
  int64_t series = 100000;
  int scrapes = 120, reopen = 3;
  bool keep = false, build = true, wal = true;
  std::string dir = "/tmp/pantau_restart_bench";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--series" && i + 1 < argc) series = std::atoll(argv[++i]);
    if (a == "--scrapes" && i + 1 < argc) scrapes = std::atoi(argv[++i]);
    if (a == "--reopen" && i + 1 < argc) reopen = std::atoi(argv[++i]);
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    if (a == "--threads" && i + 1 < argc) g_threads = std::atoi(argv[++i]);
    if (a == "--keep") keep = true;
    if (a == "--no-build") build = false;
    if (a == "--no-wal") wal = false;
  }
  // As a server runs it (see src/cli/main.cc).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  base::SetLogLevel(std::getenv("VERBOSE") ? base::LogLevel::kInfo
                                           : base::LogLevel::kWarn);
  std::printf("| data | head | open | CPU |\n| --- | --- | --- | --- |\n");
  (void)base::Env::Default()->CreateDir(dir);
  const std::string snap = dir + "/snapshot";
  if (build) Build(snap, series, scrapes, true);
  TimeOpens("head snapshot (clean stop)", snap, reopen);
  if (wal) {
    const std::string crash = dir + "/crash";
    if (build) Build(crash, series, scrapes, false);
    TimeOpens("WAL replay (kill -9)", crash, reopen);
  }
  if (!keep) (void)base::Env::Default()->DeleteRecursively(dir);
  return 0;
}
