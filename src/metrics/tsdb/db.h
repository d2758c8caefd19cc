// DB: the embedded TSDB behind metrics::Storage. It owns a data directory:
//
//   <dir>/LOCK       held while open
//   <dir>/wal/       write-ahead log and checkpoints (tsdb-wal.md)
//   <dir>/<ULID>/    immutable blocks (tsdb-block.md)
//
// Appenders write to the WAL and then to the head; queriers merge the head
// with the blocks overlapping their range. Maintain() cuts blocks from the
// head, compacts them and applies retention; a background thread calls it
// every `maintenance_interval` unless that is zero.
//
// Errors from Appender::Append, by status code (the message names the
// reason; each is counted in Stats::rejected):
//   INVALID_ARGUMENT    out of order (older than the series' newest sample
//                       beyond the out-of-order window), or no labels
//   ALREADY_EXISTS      duplicate timestamp with a different value
//   OUT_OF_RANGE        older than the head (already cut into a block)
//   RESOURCE_EXHAUSTED  a new series over max_series / max_series_per_metric
// Appending the identical sample again is accepted and ignored. Commit
// fails (and nothing of the batch is acknowledged or visible) on WAL write
// or fsync errors, and with OUT_OF_RANGE if a block cut overtook the batch.
// Querier::Select always returns series sorted by labels; samples are those
// with mint <= t <= maxt; SelectHints are ignored.
//
// Appenders, Queriers and the SeriesSets they return must be destroyed
// before the DB.
//
// Thread safety: safe for concurrent use, as metrics::Storage requires.
#ifndef PANTAU_METRICS_TSDB_DB_H_
#define PANTAU_METRICS_TSDB_DB_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/env.h"
#include "metrics/storage/storage.h"
#include "metrics/tsdb/head.h"
#include "metrics/tsdb/wal.h"

namespace pantau::metrics::tsdb {

class Block;

struct Options {
  std::string dir;
  // Not owned; Env::Default() when null.
  base::Env* env = nullptr;
  WalOptions wal;
  // Width of a level-1 block (ms). Head chunks never cross a multiple of
  // it; a block is cut once the head spans 1.5 of it.
  int64_t block_duration = 2 * 3600 * 1000;
  // Out-of-order acceptance window (ms); 0 rejects out-of-order samples.
  int64_t out_of_order_window = 0;
  // Limits that reject NEW series (existing ones keep taking samples);
  // 0 = unlimited.
  int64_t max_series = 0;
  int64_t max_series_per_metric = 0;
  // Blocks entirely older than (newest block's maxt - retention) are
  // deleted; 0 = keep forever.
  int64_t retention_ms = 15LL * 24 * 3600 * 1000;
  // Oldest blocks are deleted while blocks + WAL exceed this; 0 = no limit.
  uint64_t retention_bytes = 0;
  // Compacted blocks grow by this factor per level (2h, 6h, 18h, ...), up
  // to max_block_duration (0 = 10% of retention, at most 31 days).
  int compaction_factor = 3;
  int64_t max_block_duration = 0;
  // Writes a head checkpoint on Close so restart loads chunks instead of
  // replaying every sample.
  bool snapshot_on_close = true;
  absl::Duration maintenance_interval = absl::Minutes(1);
  int stripes = 256;
  // Threads decoding the head snapshot and replaying the WAL on open; 0 =
  // one per core.
  int replay_threads = 0;
};

// Counters for pantau's own /metrics. Plain values, copied on read.
struct Stats {
  int64_t head_series = 0;
  int64_t head_min_time = 0;
  int64_t head_max_time = 0;
  uint64_t head_memory_bytes = 0;  // approximate; refreshed every 30 s
  uint64_t head_series_created = 0;
  uint64_t head_series_removed = 0;
  uint64_t samples_appended = 0;
  std::map<std::string, uint64_t> rejected;  // by reason (RejectName)
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
  uint64_t exemplars_received = 0;
  WalStats wal;
  uint64_t wal_corruptions = 0;  // segments cut during replay
  double wal_replay_seconds = 0;
  uint64_t blocks = 0;
  uint64_t block_bytes = 0;
  uint64_t wal_bytes = 0;
  uint64_t compactions = 0;
  uint64_t blocks_deleted_retention = 0;
  uint64_t checkpoints = 0;
};

class DB : public Storage {
 public:
  static absl::StatusOr<std::unique_ptr<DB>> Open(const Options& options);
  ~DB() override;

  std::unique_ptr<Appender> NewAppender() override;
  absl::StatusOr<std::unique_ptr<Querier>> NewQuerier(int64_t mint,
                                                      int64_t maxt) override;
  // Stops maintenance, writes the snapshot if configured, closes the WAL.
  absl::Status Close() override;

  // Cuts due blocks, compacts, applies retention. Safe to call any time.
  absl::Status Maintain();
  // Cuts every complete block range of the head regardless of the 1.5x
  // rule, and everything if `all` (tests and `pantau import`).
  absl::Status CutBlocks(bool all);
  // Writes a head checkpoint now and drops the WAL segments it covers.
  absl::Status Checkpoint();

  Stats GetStats();
  // Walks every head series for an exact accounting (slow with many series).
  uint64_t HeadMemoryBytes() { return head_->MemoryBytes(); }

  // Tests only: stops like kill -9 would (no checkpoint, no fsync, no
  // close of the WAL); the object may only be destroyed afterwards.
  void CrashForTesting();

 private:
  friend class DbAppender;
  friend class DbQuerier;
  explicit DB(const Options& options);
  absl::Status Init();
  absl::Status Replay(uint64_t* next_segment);
  // Loads checkpoint `path` into the head; `aliases` gets the refs whose
  // labels were already present under another ref.
  absl::Status LoadCheckpoint(
      const std::string& path,
      absl::flat_hash_map<SeriesRef, MemSeries*>* aliases, uint64_t* series);
  int ReplayThreads() const;
  absl::Status LoadBlocks();
  absl::Status CutRange(int64_t mint, int64_t maxt);
  absl::Status Compact();
  absl::Status ApplyRetention();
  absl::Status DeleteBlock(const std::string& id);
  std::vector<std::shared_ptr<Block>> BlocksSnapshot();
  void MaintenanceLoop();

  Options options_;
  base::Env* env_;
  std::unique_ptr<base::FileLock> lock_;
  std::unique_ptr<Head> head_;
  std::unique_ptr<Wal> wal_;

  // Commits hold it shared from WAL write to head apply; a checkpoint
  // holds it exclusively while rotating the WAL, so the segments it then
  // drops hold nothing the head lacks.
  absl::Mutex apply_mu_;
  absl::Mutex maintain_mu_;  // one Maintain/Checkpoint at a time
  absl::Mutex blocks_mu_;
  std::vector<std::shared_ptr<Block>> blocks_ ABSL_GUARDED_BY(blocks_mu_);

  absl::Mutex stats_mu_;
  Stats stats_ ABSL_GUARDED_BY(stats_mu_);  // the counters not kept elsewhere
  uint64_t memory_bytes_ ABSL_GUARDED_BY(stats_mu_) = 0;
  absl::Time memory_at_ ABSL_GUARDED_BY(stats_mu_) = absl::InfinitePast();

  absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
  std::thread maintenance_;
  bool closed_ = false;
};

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_DB_H_
