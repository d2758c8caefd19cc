// The write-ahead log writer (docs/format/tsdb-wal.md): segmented files,
// group commit and a configurable fsync policy. Replay lives in the DB,
// which also owns checkpoints.
//
// Thread safety: Log, Rotate, Sync and the getters are safe for concurrent
// use. Concurrent Log calls are written and fsynced together by whichever
// caller arrives first ("group commit").
#ifndef PANTAU_METRICS_TSDB_WAL_H_
#define PANTAU_METRICS_TSDB_WAL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/env.h"
#include "metrics/tsdb/format.h"

namespace pantau::metrics::tsdb {

enum class FsyncPolicy {
  kAlways,    // every commit waits for fsync (default)
  kInterval,  // a background thread fsyncs every sync_interval
  kNever,     // the OS decides; survives kill -9, not power loss
};

struct WalOptions {
  size_t segment_size = kDefaultWalSegmentSize;
  FsyncPolicy fsync = FsyncPolicy::kAlways;
  absl::Duration sync_interval = absl::Seconds(1);
};

struct WalStats {
  uint64_t fsyncs = 0;
  double fsync_seconds = 0;
  uint64_t fsync_failures = 0;
  uint64_t write_failures = 0;
  uint64_t bytes_written = 0;
  uint64_t segments_created = 0;
};

// "00000012"
std::string SegmentName(uint64_t n);
// Segment numbers present in dir (sorted); ignores other names.
absl::StatusOr<std::vector<uint64_t>> ListSegments(base::Env* env,
                                                   const std::string& dir);

class Wal {
 public:
  // Starts writing a new segment numbered `first_segment` in dir (which
  // must exist). Never appends to an existing segment.
  static absl::StatusOr<std::unique_ptr<Wal>> Open(base::Env* env,
                                                   std::string dir,
                                                   const WalOptions& options,
                                                   uint64_t first_segment);
  ~Wal();

  // Appends framed records; returns once they are written (and fsynced
  // when the policy is kAlways). On error nothing is acknowledged and the
  // next write starts a new segment.
  absl::Status Log(std::string_view records);
  // Closes the current segment and starts the next one; returns the
  // number of the closed segment. Waits for an in-flight write.
  absl::StatusOr<uint64_t> Rotate();
  // Fsyncs the current segment now.
  absl::Status Sync();
  absl::Status Close();
  // Drops the file without fsync (for crash tests).
  void Abandon();

  uint64_t current_segment() const;
  WalStats stats() const;

 private:
  struct Group {
    std::string data;
    absl::Status status;
    bool done = false;
  };
  Wal(base::Env* env, std::string dir, const WalOptions& options);
  absl::Status Write(std::string_view data, bool sync);  // as the writer
  absl::Status OpenSegment(uint64_t n);
  absl::Status SyncFile();  // as the writer
  void AcquireWriter() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SyncLoop();

  base::Env* const env_;
  const std::string dir_;
  const WalOptions options_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<Group> current_ ABSL_GUARDED_BY(mu_);

  // Owned by whoever holds the writer role (writing_ == true).
  std::unique_ptr<base::WritableFile> file_;
  uint64_t segment_ = 0;
  bool broken_ = false;  // last write/sync failed: start a new segment
  bool dirty_ = false;   // written since the last fsync

  std::atomic<uint64_t> current_segment_{0};
  mutable absl::Mutex stats_mu_;
  WalStats stats_ ABSL_GUARDED_BY(stats_mu_);

  std::thread sync_thread_;
  absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
};

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_WAL_H_
