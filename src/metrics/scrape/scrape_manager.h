// The scrape manager: turns `scrape_configs` into scrape pools (one per
// job), keeps each pool's targets in step with its service discovery
// (static_configs, file_sd_configs), and runs every target's ScrapeLoop on
// its schedule on a small thread pool.
//
//   ScrapeManager m({.storage = db, .fetcher = &http});
//   PANTAU_RETURN_IF_ERROR(m.ApplyConfig(settings));  // also on reload
//   m.Start();
//   ... m.ActiveTargets() for /api/v1/targets ...
//   m.Stop();
//
// On ApplyConfig (reload), a target whose labels stay the same keeps
// scraping (its loop is replaced without staleness markers if its job's
// config changed); a target that went away gets staleness markers for all
// its series, as in Prometheus.
//
// Tests drive the manager without threads: RunPending() polls service
// discovery and runs every scrape that is due at the clock's time.
//
// Thread safety: all public methods are safe to call concurrently.
#ifndef PANTAU_METRICS_SCRAPE_SCRAPE_MANAGER_H_
#define PANTAU_METRICS_SCRAPE_SCRAPE_MANAGER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/thread_pool.h"
#include "base/time.h"
#include "metrics/scrape/config.h"
#include "metrics/scrape/fetcher.h"
#include "metrics/scrape/file_sd.h"
#include "metrics/scrape/scrape_loop.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::scrape {

struct ScrapeManagerOptions {
  Appendable* storage = nullptr;  // required; outlives the manager
  Fetcher* fetcher = nullptr;     // required; outlives the manager
  base::Clock* clock = nullptr;   // default: the real clock
  int threads = 2;                // scrape workers
  // Scrape timestamps within this of the schedule are snapped to it.
  absl::Duration timestamp_tolerance = absl::Milliseconds(25);
  // How often file_sd files are checked for changes.
  absl::Duration sd_poll_interval = absl::Seconds(1);
};

// A target discovered but not scraped: dropped by relabeling or invalid.
struct DroppedTarget {
  std::string job;
  base::Labels discovered_labels;
  std::string error;  // empty when relabeling dropped it
};

class ScrapeManager {
 public:
  explicit ScrapeManager(ScrapeManagerOptions options);
  ~ScrapeManager();  // Stop()

  ScrapeManager(const ScrapeManager&) = delete;
  ScrapeManager& operator=(const ScrapeManager&) = delete;

  // Applies a (new) configuration. Relabel configs are compiled here;
  // an error leaves the running configuration unchanged.
  absl::Status ApplyConfig(const ScrapeSettings& settings);

  // Starts the scheduler thread. Idempotent.
  void Start();
  // Stops scheduling, waits for running scrapes, and writes staleness
  // markers for every target (the data stops here). Idempotent.
  void Stop();

  // Without threads: refreshes discovery and runs each scrape due at
  // clock->Now(), synchronously.
  void RunPending();

  std::vector<TargetStatus> ActiveTargets() const;
  std::vector<DroppedTarget> DroppedTargets() const;
  // Metadata of `metric` (every family when empty) from each active
  // target's last successful scrape; one entry per target that has it.
  std::vector<std::pair<std::string, FamilyMetadata>> Metadata(
      std::string_view metric) const;
  // Totals over every loop, for pantau's own /metrics.
  const ScrapeCounters& counters() const { return counters_; }

 private:
  struct LoopSlot {
    absl::Mutex run_mu;  // one ScrapeOnce/Stop at a time
    std::unique_ptr<ScrapeLoop> loop ABSL_GUARDED_BY(run_mu);
    bool stopped ABSL_GUARDED_BY(run_mu) = false;
  };
  struct Entry {
    std::shared_ptr<LoopSlot> slot;
    const ScrapeLoop* view;  // for status; owned by slot
    absl::Time next;
    bool running = false;
  };
  struct Pool {
    ScrapeConfig config;
    std::string config_key;
    std::shared_ptr<const Relabeler> relabeler;
    std::shared_ptr<const Relabeler> metric_relabeler;
    std::vector<std::unique_ptr<FileSd>> file_sds;
    std::map<uint64_t, Entry> loops;  // by the target labels' hash
    std::vector<DroppedTarget> dropped;
  };

  // Recomputes a pool's targets from its groups, creating and stopping
  // loops. Stopped loops are returned so markers are written unlocked.
  void SyncPool(Pool* pool, std::map<uint64_t, Entry>* reuse,
                std::vector<std::shared_ptr<LoopSlot>>* to_stop)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Due work at `now`; marks entries running.
  struct Due {
    std::string job;
    uint64_t key;
    std::shared_ptr<LoopSlot> slot;
    absl::Time scheduled;
  };
  std::vector<Due> CollectDue(absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PollDiscovery(absl::Time now, std::vector<std::shared_ptr<LoopSlot>>*)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunOne(const Due& d);
  static void StopSlots(const std::vector<std::shared_ptr<LoopSlot>>& slots);
  void SchedulerLoop();

  ScrapeManagerOptions options_;
  base::Clock* clock_;
  ScrapeCounters counters_;

  mutable absl::Mutex mu_;
  std::map<std::string, Pool> pools_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sd_poll_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar wake_;

  std::unique_ptr<base::ThreadPool> workers_;
  std::thread scheduler_;
};

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_SCRAPE_MANAGER_H_
