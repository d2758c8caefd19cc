#include "metrics/tsdb/wal.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status_macros.h"

namespace pantau::metrics::tsdb {

std::string SegmentName(uint64_t n) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08llu", static_cast<unsigned long long>(n));
  return buf;
}

absl::StatusOr<std::vector<uint64_t>> ListSegments(base::Env* env,
                                                   const std::string& dir) {
  PANTAU_ASSIGN_OR_RETURN(std::vector<std::string> names,
                          env->GetChildren(dir));
  std::vector<uint64_t> out;
  for (const std::string& name : names) {
    if (name.size() < 8 || !std::all_of(name.begin(), name.end(), [](char c) {
          return c >= '0' && c <= '9';
        })) {
      continue;
    }
    uint64_t n;
    if (absl::SimpleAtoi(name, &n)) out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Wal::Wal(base::Env* env, std::string dir, const WalOptions& options)
    : env_(env),
      dir_(std::move(dir)),
      options_(options),
      current_(std::make_shared<Group>()) {}

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(base::Env* env, std::string dir,
                                               const WalOptions& options,
                                               uint64_t first_segment) {
  std::unique_ptr<Wal> wal(new Wal(env, std::move(dir), options));
  PANTAU_RETURN_IF_ERROR(wal->OpenSegment(first_segment));
  if (options.fsync == FsyncPolicy::kInterval) {
    wal->sync_thread_ = std::thread([w = wal.get()] { w->SyncLoop(); });
  }
  return wal;
}

Wal::~Wal() { (void)Close(); }

absl::Status Wal::OpenSegment(uint64_t n) {
  if (file_ != nullptr) {
    absl::Status s = dirty_ && options_.fsync != FsyncPolicy::kNever
                         ? SyncFile()
                         : absl::OkStatus();
    (void)file_->Close();
    file_.reset();
    if (!s.ok()) {
      PANTAU_LOG(kWarn, "WAL segment sync on close failed",
                 {{"segment", segment_}, {"err", s}});
    }
  }
  PANTAU_ASSIGN_OR_RETURN(file_,
                          env_->NewWritableFile(dir_ + "/" + SegmentName(n)));
  segment_ = n;
  current_segment_.store(n);
  broken_ = false;
  dirty_ = false;
  // The new name must survive a crash for the data in it to be found.
  PANTAU_RETURN_IF_ERROR(env_->SyncDir(dir_));
  absl::MutexLock l(&stats_mu_);
  ++stats_.segments_created;
  return absl::OkStatus();
}

absl::Status Wal::SyncFile() {
  const absl::Time start = absl::Now();
  absl::Status s = file_->Sync();
  const double secs = absl::ToDoubleSeconds(absl::Now() - start);
  absl::MutexLock l(&stats_mu_);
  if (s.ok()) {
    ++stats_.fsyncs;
    stats_.fsync_seconds += secs;
    dirty_ = false;
  } else {
    ++stats_.fsync_failures;
  }
  return s;
}

absl::Status Wal::Write(std::string_view data, bool sync) {
  if (file_ == nullptr || broken_ ||
      (file_->Size() > 0 &&
       file_->Size() + data.size() > options_.segment_size)) {
    PANTAU_RETURN_IF_ERROR(OpenSegment(segment_ + 1));
  }
  absl::Status s = file_->Append(data);
  if (s.ok()) s = file_->Flush();
  if (!s.ok()) {
    broken_ = true;
    absl::MutexLock l(&stats_mu_);
    ++stats_.write_failures;
    return s;
  }
  dirty_ = true;
  {
    absl::MutexLock l(&stats_mu_);
    stats_.bytes_written += data.size();
  }
  if (sync) {
    s = SyncFile();
    if (!s.ok()) {
      // After a failed fsync the state of the page cache is unknown: never
      // acknowledge, and write on in a fresh segment.
      broken_ = true;
      PANTAU_LOG(kError, "WAL fsync failed; moving to a new segment",
                 {{"segment", segment_}, {"err", s}});
      return s;
    }
  }
  return absl::OkStatus();
}

void Wal::AcquireWriter() {
  while (writing_) cv_.Wait(&mu_);
  writing_ = true;
}

absl::Status Wal::Log(std::string_view records) {
  mu_.Lock();
  if (closed_) {
    mu_.Unlock();
    return absl::FailedPreconditionError("WAL is closed");
  }
  std::shared_ptr<Group> g = current_;
  g->data.append(records);
  while (!g->done) {
    if (!writing_) {
      writing_ = true;
      std::shared_ptr<Group> batch = std::move(current_);
      current_ = std::make_shared<Group>();
      mu_.Unlock();
      absl::Status s =
          Write(batch->data, options_.fsync == FsyncPolicy::kAlways);
      mu_.Lock();
      batch->status = s;
      batch->done = true;
      writing_ = false;
      cv_.SignalAll();
    } else {
      cv_.Wait(&mu_);
    }
  }
  absl::Status s = g->status;
  mu_.Unlock();
  return s;
}

absl::StatusOr<uint64_t> Wal::Rotate() {
  {
    absl::MutexLock l(&mu_);
    AcquireWriter();
  }
  const uint64_t closed = segment_;
  absl::Status s = OpenSegment(segment_ + 1);
  absl::MutexLock l(&mu_);
  writing_ = false;
  cv_.SignalAll();
  if (!s.ok()) return s;
  return closed;
}

absl::Status Wal::Sync() {
  {
    absl::MutexLock l(&mu_);
    AcquireWriter();
  }
  absl::Status s = absl::OkStatus();
  if (file_ != nullptr && dirty_ && !broken_) {
    s = SyncFile();
    if (!s.ok()) broken_ = true;
  }
  absl::MutexLock l(&mu_);
  writing_ = false;
  cv_.SignalAll();
  return s;
}

void Wal::SyncLoop() {
  absl::MutexLock l(&stop_mu_);
  while (!stop_) {
    stop_mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.sync_interval);
    if (stop_) break;
    stop_mu_.Unlock();
    absl::Status s = Sync();
    if (!s.ok()) PANTAU_LOG(kError, "WAL interval fsync failed", {{"err", s}});
    stop_mu_.Lock();
  }
}

absl::Status Wal::Close() {
  {
    absl::MutexLock l(&stop_mu_);
    stop_ = true;
  }
  if (sync_thread_.joinable()) sync_thread_.join();
  {
    absl::MutexLock l(&mu_);
    if (closed_) return absl::OkStatus();
    AcquireWriter();
    closed_ = true;
  }
  absl::Status s;
  if (file_ != nullptr) {
    if (dirty_ && options_.fsync != FsyncPolicy::kNever) s = SyncFile();
    absl::Status c = file_->Close();
    if (s.ok()) s = c;
    file_.reset();
  }
  absl::MutexLock l(&mu_);
  writing_ = false;
  cv_.SignalAll();
  return s;
}

void Wal::Abandon() {
  {
    absl::MutexLock l(&stop_mu_);
    stop_ = true;
  }
  if (sync_thread_.joinable()) sync_thread_.join();
  absl::MutexLock l(&mu_);
  AcquireWriter();
  closed_ = true;
  file_.reset();
  writing_ = false;
}

uint64_t Wal::current_segment() const { return current_segment_.load(); }

WalStats Wal::stats() const {
  absl::MutexLock l(&stats_mu_);
  return stats_;
}

}  // namespace pantau::metrics::tsdb
