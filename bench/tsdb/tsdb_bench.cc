// tsdb_bench [--series N] [--dir PATH] [--deadlock-checks] [--chunk-iteration
// REPS]: micro-benchmarks of the TSDB on a node_exporter-like workload,
// printed as markdown (--chunk-iteration runs only the chunk decoding one):
//   - append throughput (WAL without fsync; and with fsync per commit)
//   - bytes per sample in chunks and in blocks (15 s scrapes, 2 h)
//   - head bytes per active series (accounted and RSS)
//   - query latency for one metric over 2 h
//   - chunk decoding CPU ns/sample, packed vs XOR
// The workload mixes what a node_exporter exposes: constant gauges (sizes,
// info), integer counters (bytes, packets), fractional counters (cpu
// seconds) and changing gauges (free memory, load).
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/env.h"
#include "base/log.h"
#include "metrics/tsdb/chunk.h"
#include "metrics/tsdb/db.h"

using namespace pantau;
using namespace pantau::metrics;

namespace {

constexpr int64_t kStart = 1700000000000;
constexpr int64_t kStep = 15000;

struct Gen {
  base::Labels labels;
  int kind;  // 0 const gauge, 1 int counter, 2 float counter, 3 gauge
  double v;
  int64_t centis = 0;
  std::mt19937_64 rng;
  double Next() {
    switch (kind) {
      case 0:
        return v;
      case 1:
        v += static_cast<double>(rng() % 2000);
        return v;
      case 2:
        // cpu seconds: node_exporter prints them with 2 decimals (from
        // /proc/stat ticks) and the scraper parses that text.
        centis += static_cast<int64_t>(rng() % 1500);
        return static_cast<double>(centis) / 100.0;
      default:
        v += static_cast<double>(static_cast<int64_t>(rng() % 8193) - 4096) *
             4096;
        return v;
    }
  }
};

std::vector<Gen> Workload(int n) {
  static const char* kNames[] = {
      "node_filesystem_size_bytes", "node_network_receive_bytes_total",
      "node_cpu_seconds_total", "node_memory_MemFree_bytes"};
  std::vector<Gen> out;
  std::mt19937_64 rng(42);
  for (int i = 0; i < n; ++i) {
    // 40% constant, 30% int counters, 20% float counters, 10% gauges.
    const int r = i % 10;
    const int kind = r < 4 ? 0 : r < 7 ? 1 : r < 9 ? 2 : 3;
    Gen g;
    g.labels = base::Labels::Of(
        {{"__name__", kNames[kind]},
         {"instance", "host-" + std::to_string(i / 100) + ":9100"},
         {"job", "node"},
         {"device", "dev" + std::to_string(i % 100)},
         {"mode", kind == 2 ? "user" : "none"}});
    g.kind = kind;
    g.v = kind == 0 ? 1e11 + static_cast<double>(rng() % 1000000) * 4096
                    : static_cast<double>(rng() % 100000000);
    g.centis = static_cast<int64_t>(rng() % 100000000);
    g.rng.seed(rng());
    out.push_back(std::move(g));
  }
  return out;
}

// Process CPU seconds: the machine is shared, so wall time says more about
// the neighbours than about this code. The benchmark is single-threaded
// except for fsync waits, which CPU time leaves out (reported separately).
double CpuNow() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

double Seconds(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - a)
      .count();
}

long RssKb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, rss = 0;
  f >> pages >> rss;
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

std::unique_ptr<tsdb::DB> OpenDb(base::Env* env, const std::string& dir,
                                 tsdb::FsyncPolicy fsync,
                                 bool snapshot = true) {
  tsdb::Options o;
  o.dir = dir;
  o.env = env;
  o.maintenance_interval = absl::ZeroDuration();
  o.wal.fsync = fsync;
  o.snapshot_on_close = snapshot;
  auto db = tsdb::DB::Open(o);
  if (!db.ok()) {
    std::fprintf(stderr, "open: %s\n", db.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*db);
}

// Appends `scrapes` scrapes of every series, one commit per `batch`
// samples; returns samples per CPU-second.
double Ingest(tsdb::DB& db, std::vector<Gen>& gens, int scrapes, int64_t t0,
              size_t batch) {
  std::vector<SeriesRef> refs(gens.size(), 0);
  const double start = CpuNow();
  size_t n = 0;
  for (int s = 0; s < scrapes; ++s) {
    auto app = db.NewAppender();
    size_t in_batch = 0;
    for (size_t i = 0; i < gens.size(); ++i) {
      auto r =
          app->Append(refs[i], gens[i].labels, t0 + s * kStep, gens[i].Next());
      if (!r.ok()) {
        std::fprintf(stderr, "append: %s\n", r.status().ToString().c_str());
        std::exit(1);
      }
      refs[i] = *r;
      ++n;
      if (++in_batch == batch) {
        (void)app->Commit();
        in_batch = 0;
      }
    }
    (void)app->Commit();
  }
  return static_cast<double>(n) / (CpuNow() - start);
}

// Iterates every chunk once; returns the samples read (and sums the values
// so the decode cannot be optimised away).
int64_t IterateChunks(const std::vector<std::string>& chunks, double* sum) {
  int64_t n = 0;
  for (const std::string& c : chunks) {
    tsdb::ChunkIterator it(c);
    while (it.Next()) {
      *sum += it.v() + static_cast<double>(it.t() & 1);
      ++n;
    }
  }
  return n;
}
// Separate symbols so callgrind can count each encoding on its own
// (--toggle-collect='*IteratePacked*').
__attribute__((noipa)) int64_t IteratePacked(
    const std::vector<std::string>& chunks, double* sum) {
  return IterateChunks(chunks, sum);
}
__attribute__((noipa)) int64_t IterateXor(
    const std::vector<std::string>& chunks, double* sum) {
  return IterateChunks(chunks, sum);
}

// Chunk decoding cost (the query path over blocks): the workload's
// 240-sample chunks as the head writes them (XOR) and as blocks store them
// (CompactChunk: packed where smaller), each iterated `reps` times.
void ChunkIteration(int reps) {
  auto gens = Workload(1000);
  std::vector<std::string> xor_chunks, packed_chunks;
  for (Gen& g : gens) {
    tsdb::XorChunk c;
    for (int i = 0; i < 240; ++i) c.Append(kStart + i * kStep, g.Next());
    xor_chunks.emplace_back(c.bytes());
    tsdb::EncodedChunk e = tsdb::CompactChunk(c.bytes());
    if (e.encoding == tsdb::kEncodingPacked) {
      packed_chunks.push_back(std::move(e.data));
    }
  }
  double sum = 0;
  int64_t samples = 0;
  double t0 = CpuNow();
  for (int r = 0; r < reps; ++r) samples += IteratePacked(packed_chunks, &sum);
  const double packed_s = CpuNow() - t0;
  const int64_t packed_n = samples;
  samples = 0;
  t0 = CpuNow();
  for (int r = 0; r < reps; ++r) samples += IterateXor(xor_chunks, &sum);
  const double xor_s = CpuNow() - t0;
  std::printf(
      "| chunk iteration, packed (%zu of %zu chunks) | %.1f ns/sample |\n",
      packed_chunks.size(), xor_chunks.size(),
      packed_s * 1e9 / static_cast<double>(packed_n > 0 ? packed_n : 1));
  std::printf("| chunk iteration, XOR (same series) | %.1f ns/sample |\n",
              xor_s * 1e9 / static_cast<double>(samples > 0 ? samples : 1));
  if (sum == 42.4242) std::printf("(%f)\n", sum);
}

}  // namespace

int main(int argc, char** argv) {
  int series = 100000;
  std::string dir = "/tmp/pantau_tsdb_bench";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--series" && i + 1 < argc) series = std::atoi(argv[++i]);
    if (a == "--dir" && i + 1 < argc) dir = argv[++i];
  }
  base::SetLogLevel(base::LogLevel::kWarn);
  for (int i = 1; i < argc; ++i) {
    // --chunk-iteration REPS: only the chunk decoding benchmark.
    if (std::string(argv[i]) == "--chunk-iteration" && i + 1 < argc) {
      std::printf("| benchmark | result |\n| --- | --- |\n");
      ChunkIteration(std::atoi(argv[i + 1]));
      return 0;
    }
  }
  // Debian's Abseil checks every lock acquisition for lock-order cycles,
  // which costs more than the work it guards; a server turns it off too.
  bool deadlock_checks = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--deadlock-checks") deadlock_checks = true;
  }
  if (!deadlock_checks) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  std::printf("| benchmark | result |\n| --- | --- |\n");

  // 1. Head memory per series: create all series with one sample each,
  //    then fill 2 h of 15 s scrapes (480 samples).
  {
    (void)base::Env::Default()->DeleteRecursively(dir);
    auto gens = Workload(series);
    const long rss0 = RssKb();
    auto db = OpenDb(base::Env::Default(), dir, tsdb::FsyncPolicy::kNever);
    const double rate = Ingest(*db, gens, 1, kStart, 10000);
    tsdb::Stats st = db->GetStats();
    const long rss1 = RssKb();
    std::printf(
        "| series created (1 sample each, %d series) | %.0f series/CPU-s |\n",
        series, rate);
    std::printf("| head bytes/series, accounted, 1 sample | %.0f B |\n",
                static_cast<double>(db->HeadMemoryBytes()) / series);
    std::printf("| process RSS growth/series, 1 sample | %.0f B |\n",
                (rss1 - rss0) * 1024.0 / series);
    const double arate = Ingest(*db, gens, 479, kStart + kStep, 10000);
    st = db->GetStats();
    std::printf(
        "| append throughput, WAL on disk without fsync, 10k samples/commit "
        "| %.2f M samples/CPU-s |\n",
        arate / 1e6);
    std::printf("| process RSS growth/series, 2 h of 15 s samples | %.0f B |\n",
                (RssKb() - rss0) * 1024.0 / series);
    std::printf(
        "| head bytes/series, accounted, 2 h of 15 s samples | %.0f B |\n",
        static_cast<double>(db->HeadMemoryBytes()) / series);

    // 2. Query: one metric (10%% of series) over the 2 h.
    auto q = db->NewQuerier(kStart, kStart + 480 * kStep);
    const double qs = CpuNow();
    auto set = (*q)->Select(true, nullptr,
                            {Matcher::Must(MatchType::kEqual, "__name__",
                                           "node_memory_MemFree_bytes")});
    size_t ns = 0, samples = 0;
    while (set->Next()) {
      ++ns;
      auto it = set->At().Iterator();
      while (it->Next()) ++samples;
    }
    const double qsec = CpuNow() - qs;
    std::printf(
        "| query: %zu series x 2 h (%zu samples), head | %.1f CPU-ms (%.1f M "
        "samples/CPU-s) |\n",
        ns, samples, qsec * 1e3, samples / qsec / 1e6);

    // 3. Bytes/sample: cut the 2 h into a block.
    if (!db->CutBlocks(true).ok()) return 1;
    st = db->GetStats();
    std::printf(
        "| block bytes/sample (chunks+index+meta), %d series x 480 | %.3f B "
        "|\n",
        series,
        static_cast<double>(st.block_bytes) /
            (static_cast<double>(series) * 480));
    auto q2 = db->NewQuerier(kStart, kStart + 480 * kStep);
    const double qs2 = CpuNow();
    auto set2 = (*q2)->Select(true, nullptr,
                              {Matcher::Must(MatchType::kEqual, "__name__",
                                             "node_memory_MemFree_bytes")});
    samples = 0;
    while (set2->Next()) {
      auto it = set2->At().Iterator();
      while (it->Next()) ++samples;
    }
    const double qsec2 = CpuNow() - qs2;
    std::printf(
        "| query: same, from the block | %.1f CPU-ms (%.1f M samples/CPU-s) "
        "|\n",
        qsec2 * 1e3, samples / qsec2 / 1e6);
  }

  (void)base::Env::Default()->DeleteRecursively(dir);

  // 4. Per-kind chunk bytes/sample (240-sample chunks).
  {
    auto gens = Workload(1000);
    double bytes[4] = {}, n[4] = {};
    for (Gen& g : gens) {
      tsdb::XorChunk c;
      for (int i = 0; i < 240; ++i) c.Append(kStart + i * kStep, g.Next());
      bytes[g.kind] += c.bytes().size();
      n[g.kind] += 240;
    }
    const char* kinds[] = {"constant gauges", "integer counters",
                           "cpu-seconds counters", "changing gauges"};
    for (int k = 0; k < 4; ++k) {
      std::printf("| chunk bytes/sample: %s | %.3f B |\n", kinds[k],
                  bytes[k] / n[k]);
    }
  }

  // 4b. Chunk decoding, packed vs XOR.
  ChunkIteration(200);

  // 5. On disk, fsync on every commit (1000 samples/commit); then restart
  //    after a crash (WAL replay) and after a clean close (snapshot).
  {
    (void)base::Env::Default()->DeleteRecursively(dir);
    auto gens = Workload(std::min(series, 20000));
    auto db = OpenDb(base::Env::Default(), dir, tsdb::FsyncPolicy::kAlways);
    Ingest(*db, gens, 1, kStart, 1000);
    const int scrapes = 120;
    const double rate = Ingest(*db, gens, scrapes - 1, kStart + kStep, 1000);
    tsdb::Stats st = db->GetStats();
    std::printf(
        "| append throughput, disk, fsync per 1000-sample commit | %.2f M "
        "samples/CPU-s (%llu fsyncs, %.2f ms avg) |\n",
        rate / 1e6, static_cast<unsigned long long>(st.wal.fsyncs),
        st.wal.fsyncs ? st.wal.fsync_seconds / st.wal.fsyncs * 1e3 : 0);
    db->CrashForTesting();
    db.reset();
    auto rs = std::chrono::steady_clock::now();
    double rc = CpuNow();
    db = OpenDb(base::Env::Default(), dir, tsdb::FsyncPolicy::kAlways);
    std::printf(
        "| restart after kill: WAL replay, %zu series x %d samples | %.0f ms "
        "wall, %.0f CPU-ms |\n",
        gens.size(), scrapes, Seconds(rs) * 1e3, (CpuNow() - rc) * 1e3);
    db.reset();  // Close writes the head snapshot (snapshot_on_close)
    rs = std::chrono::steady_clock::now();
    rc = CpuNow();
    db = OpenDb(base::Env::Default(), dir, tsdb::FsyncPolicy::kAlways);
    std::printf(
        "| restart after clean close: head snapshot, same data | %.0f ms wall, "
        "%.0f CPU-ms |\n",
        Seconds(rs) * 1e3, (CpuNow() - rc) * 1e3);
    db.reset();
    (void)base::Env::Default()->DeleteRecursively(dir);
  }
  return 0;
}
