// Batcher<T>: the bounded queue and background thread behind the batch
// span and log processors.
//
// Push never blocks on export: when the queue is full the OLDEST item is
// dropped (newer telemetry is more useful) and counted. A worker thread
// exports up to max_batch_size items whenever that many are queued, when
// schedule_delay has passed, or when a flush asks. ForceFlush and Shutdown
// wait until everything queued before the call has been handed to the
// export function (or dropped), up to their timeout.
//
// Thread safety: all methods are safe to call concurrently.
#ifndef PANTAU_SDK_SRC_BATCHER_H_
#define PANTAU_SDK_SRC_BATCHER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pantau/sdk/batch_options.h"

namespace pantau::sdk::internal {

template <typename T>
class Batcher {
 public:
  using ExportFn = std::function<absl::Status(std::vector<T>&)>;

  Batcher(BatchOptions options, ExportFn fn)
      : options_(options), export_(std::move(fn)) {
    if (options_.max_batch_size == 0) options_.max_batch_size = 1;
    if (options_.max_queue_size < options_.max_batch_size) {
      options_.max_queue_size = options_.max_batch_size;
    }
    worker_ = std::thread([this] { Run(); });
  }
  ~Batcher() { Shutdown(absl::InfiniteDuration()).IgnoreError(); }

  void Push(T item) {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      ++dropped_;
      return;
    }
    if (queue_.size() >= options_.max_queue_size) {
      queue_.pop_front();
      ++dropped_;
      ++done_;
    }
    queue_.push_back(std::move(item));
    ++accepted_;
    // Wake the worker only when a batch is full: signalling on every push
    // would cost each span a futex call.
    if (queue_.size() == options_.max_batch_size) work_cv_.Signal();
  }

  absl::Status ForceFlush(absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return FlushLocked(timeout);
  }

  absl::Status Shutdown(absl::Duration timeout) {
    absl::Status status;
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::OkStatus();
      status = FlushLocked(timeout);
      stopping_ = true;
      work_cv_.Signal();
    }
    if (worker_.joinable()) worker_.join();
    return status;
  }

  uint64_t dropped() const {
    absl::MutexLock lock(&mu_);
    return dropped_;
  }
  uint64_t exported() const {
    absl::MutexLock lock(&mu_);
    return exported_;
  }
  uint64_t failed() const {
    absl::MutexLock lock(&mu_);
    return failed_;
  }

 private:
  absl::Status FlushLocked(absl::Duration timeout)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const uint64_t target = accepted_;
    const uint64_t failed_before = failed_;
    ++flush_waiters_;
    work_cv_.Signal();
    absl::Time deadline = absl::Now() + timeout;
    bool done = true;
    while (done_ < target) {
      if (done_cv_.WaitWithDeadline(&mu_, deadline) && done_ < target) {
        done = false;
        break;
      }
    }
    --flush_waiters_;
    if (!done) return absl::DeadlineExceededError("flush timed out");
    if (failed_ != failed_before) {
      return absl::UnavailableError("some telemetry could not be exported: " +
                                    last_error_);
    }
    return absl::OkStatus();
  }

  bool ReadyLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopping_ || queue_.size() >= options_.max_batch_size ||
           (flush_waiters_ > 0 && !queue_.empty());
  }

  void Run() {
    std::vector<T> batch;
    absl::MutexLock lock(&mu_);
    absl::Time deadline = absl::Now() + options_.schedule_delay;
    while (true) {
      while (!ReadyLocked()) {
        if (work_cv_.WaitWithDeadline(&mu_, deadline)) break;  // timed out
      }
      if (queue_.empty()) {
        if (stopping_) return;
        deadline = absl::Now() + options_.schedule_delay;
        continue;
      }
      size_t n = std::min(queue_.size(), options_.max_batch_size);
      batch.clear();
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      mu_.Unlock();
      absl::Status status = export_(batch);
      batch.clear();  // free the items outside the lock
      mu_.Lock();
      done_ += n;
      if (status.ok()) {
        exported_ += n;
      } else {
        failed_ += n;
        last_error_ = std::string(status.message());
      }
      done_cv_.SignalAll();
      if (queue_.size() < options_.max_batch_size) {
        deadline = absl::Now() + options_.schedule_delay;
      }
    }
  }

  BatchOptions options_;
  ExportFn export_;
  mutable absl::Mutex mu_;
  absl::CondVar work_cv_;  // worker: a batch is full, flush or stop
  absl::CondVar done_cv_;  // flushers: done_ moved
  std::deque<T> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int flush_waiters_ ABSL_GUARDED_BY(mu_) = 0;
  // accepted_: items ever queued; done_: of those, exported, failed or
  // dropped. A flush waits for done_ to reach accepted_ at its start.
  uint64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t exported_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  std::thread worker_;
};

}  // namespace pantau::sdk::internal

#endif  // PANTAU_SDK_SRC_BATCHER_H_
