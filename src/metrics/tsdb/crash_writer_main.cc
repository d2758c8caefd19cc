// tsdb_crash_writer DIR: the victim of the kill -9 test (crash_test.cc).
// Appends and commits continuously from two threads while a third runs
// maintenance (block cuts, checkpoints), and prints "T I" on stdout after
// thread T's commit I was acknowledged. Commit i of thread T writes value i
// at time i*1000 to series {__name__="crash", t="T", s="0".."4"}. On start
// it continues after the newest sample already stored.
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "base/labels.h"
#include "metrics/tsdb/db.h"

using namespace pantau;
using namespace pantau::metrics;

namespace {

int64_t NewestIndex(tsdb::DB& db, int thread) {
  auto q = db.NewQuerier(INT64_MIN, INT64_MAX);
  if (!q.ok()) return -1;
  auto set = (*q)->Select(
      true, nullptr,
      {Matcher::Must(MatchType::kEqual, "__name__", "crash"),
       Matcher::Must(MatchType::kEqual, "t", std::to_string(thread))});
  int64_t newest = -1;
  while (set->Next()) {
    auto it = set->At().Iterator();
    while (it->Next()) newest = std::max(newest, it->At().t / 1000);
  }
  return newest;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  tsdb::Options o;
  o.dir = argv[1];
  o.block_duration = 60 * 1000;  // a block per 60 commits
  o.maintenance_interval = absl::ZeroDuration();
  o.wal.segment_size = 64 << 10;
  o.retention_ms = 0;
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    return 1;
  }
  absl::Mutex out_mu;
  std::atomic<bool> failed{false};
  // The threads' clocks stay within a few seconds of each other, as scrapes
  // of one server do; a thread far behind would have its samples refused
  // as older than the head once a block is cut.
  std::atomic<int64_t> progress[2];
  std::vector<std::thread> threads;
  for (int th = 0; th < 2; ++th) {
    threads.emplace_back([&, th] {
      progress[th] = NewestIndex(**db, th) + 1;
      for (int64_t i = progress[th];; ++i) {
        progress[th] = i;
        while (!failed && i > progress[1 - th].load() + 5) {
          std::this_thread::yield();
        }
        auto app = (*db)->NewAppender();
        for (int s = 0; s < 5; ++s) {
          auto l = base::Labels::Of({{"__name__", "crash"},
                                     {"t", std::to_string(th)},
                                     {"s", std::to_string(s)}});
          auto r = app->Append(0, l, i * 1000, static_cast<double>(i));
          if (!r.ok()) {
            std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
            failed = true;
            return;
          }
        }
        absl::Status st = app->Commit();
        if (!st.ok()) {
          std::fprintf(stderr, "commit: %s\n", st.ToString().c_str());
          failed = true;
          return;
        }
        absl::MutexLock l(&out_mu);
        std::printf("%d %lld\n", th, static_cast<long long>(i));
        std::fflush(stdout);
      }
    });
  }
  threads.emplace_back([&] {
    while (!failed) {
      absl::Status st = (*db)->Maintain();
      if (!st.ok()) {
        std::fprintf(stderr, "maintain: %s\n", st.ToString().c_str());
        failed = true;
      }
      usleep(2000);
    }
  });
  for (auto& t : threads) t.join();
  return 1;  // only reached on failure
}
