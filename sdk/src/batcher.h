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
//
// The lock is a std::mutex, not an absl::Mutex: Debian's Abseil is built
// without NDEBUG, so every absl::Mutex lock runs deadlock detection (about
// 300 extra instructions) unless the program switched it off, and Push is
// on the path of every sampled span and exported log record.
#ifndef PANTAU_SDK_SRC_BATCHER_H_
#define PANTAU_SDK_SRC_BATCHER_H_

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "pantau/sdk/batch_options.h"

namespace pantau::sdk::internal {

template <typename T>
class Batcher {
 public:
  using ExportFn = std::function<absl::Status(std::vector<T>&)>;
  // Takes the items of an exported batch (on the worker, outside the
  // lock), e.g. to reuse them; must leave the vector empty.
  using RecycleFn = std::function<void(std::vector<T>&)>;

  Batcher(BatchOptions options, ExportFn fn, RecycleFn recycle = nullptr)
      : options_(options),
        export_(std::move(fn)),
        recycle_(std::move(recycle)) {
    if (options_.max_batch_size == 0) options_.max_batch_size = 1;
    if (options_.max_queue_size < options_.max_batch_size) {
      options_.max_queue_size = options_.max_batch_size;
    }
    ring_.resize(options_.max_queue_size);
    worker_ = std::thread([this] { Run(); });
  }
  ~Batcher() { Shutdown(absl::InfiniteDuration()).IgnoreError(); }

  // Queues `item`. Returns what was dropped for it (the oldest item when
  // the queue is full, `item` itself after shutdown), else a
  // value-initialised T; the caller may reuse it.
  [[nodiscard]] T Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopping_) {
      ++dropped_;
      return item;
    }
    if (size_ == ring_.size()) {
      // Full: the new item takes the oldest one's slot.
      std::swap(ring_[head_], item);
      if (++head_ == ring_.size()) head_ = 0;
      ++dropped_;
      ++done_;
    } else {
      size_t tail = head_ + size_;
      if (tail >= ring_.size()) tail -= ring_.size();
      ring_[tail] = std::move(item);
      ++size_;
    }
    ++accepted_;
    // Wake the worker only when a batch is full: signalling on every push
    // would cost each span a futex call.
    bool wake = size_ == options_.max_batch_size;
    lock.unlock();
    if (wake) work_cv_.notify_one();
    return item;  // moved-from, or the oldest when the queue was full
  }

  absl::Status ForceFlush(absl::Duration timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return FlushLocked(lock, timeout);
  }

  absl::Status Shutdown(absl::Duration timeout) {
    absl::Status status;
    {
      std::unique_lock<std::mutex> lock(mu_);
      if (stopping_) return absl::OkStatus();
      status = FlushLocked(lock, timeout);
      stopping_ = true;
    }
    work_cv_.notify_one();
    if (worker_.joinable()) worker_.join();
    return status;
  }

  uint64_t dropped() const {
    std::lock_guard<std::mutex> lock(mu_);
    return dropped_;
  }
  uint64_t exported() const {
    std::lock_guard<std::mutex> lock(mu_);
    return exported_;
  }
  uint64_t failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  static Clock::time_point Deadline(absl::Duration timeout) {
    if (timeout >= absl::Hours(24 * 365)) return Clock::time_point::max();
    return Clock::now() + absl::ToChronoNanoseconds(timeout);
  }

  // Requires `lock` to hold mu_.
  absl::Status FlushLocked(std::unique_lock<std::mutex>& lock,
                           absl::Duration timeout) {
    const uint64_t target = accepted_;
    const uint64_t failed_before = failed_;
    ++flush_waiters_;
    work_cv_.notify_one();
    bool done = done_cv_.wait_until(lock, Deadline(timeout),
                                    [&] { return done_ >= target; });
    --flush_waiters_;
    if (!done) return absl::DeadlineExceededError("flush timed out");
    if (failed_ != failed_before) {
      return absl::UnavailableError("some telemetry could not be exported: " +
                                    last_error_);
    }
    return absl::OkStatus();
  }

  // Requires mu_.
  bool ReadyLocked() const {
    return stopping_ || size_ >= options_.max_batch_size ||
           (flush_waiters_ > 0 && size_ > 0);
  }

  void Run() {
    std::vector<T> batch;
    std::unique_lock<std::mutex> lock(mu_);
    const auto delay = absl::ToChronoNanoseconds(
        std::min(options_.schedule_delay, absl::Hours(24 * 365)));
    Clock::time_point deadline = Clock::now() + delay;
    while (true) {
      // Until there is work or the schedule delay has passed.
      work_cv_.wait_until(lock, deadline, [&] { return ReadyLocked(); });
      if (size_ == 0) {
        if (stopping_) return;
        deadline = Clock::now() + delay;
        continue;
      }
      size_t n = std::min(size_, options_.max_batch_size);
      batch.clear();
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(ring_[head_]));
        if (++head_ == ring_.size()) head_ = 0;
      }
      size_ -= n;
      lock.unlock();
      absl::Status status = export_(batch);
      // Free or recycle the items outside the lock.
      if (recycle_) recycle_(batch);
      batch.clear();
      lock.lock();
      done_ += n;
      if (status.ok()) {
        exported_ += n;
      } else {
        failed_ += n;
        last_error_ = std::string(status.message());
      }
      done_cv_.notify_all();
      if (size_ < options_.max_batch_size) deadline = Clock::now() + delay;
    }
  }

  BatchOptions options_;
  ExportFn export_;
  RecycleFn recycle_;
  // Everything below up to worker_ is guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // worker: a batch is full, flush or stop
  std::condition_variable done_cv_;  // flushers: done_ moved
  // A ring of max_queue_size slots; the queue is size_ items from head_.
  // (A fixed ring rather than a deque: no allocation per push.)
  std::vector<T> ring_;
  size_t head_ = 0;
  size_t size_ = 0;
  bool stopping_ = false;
  int flush_waiters_ = 0;
  // accepted_: items ever queued; done_: of those, exported, failed or
  // dropped. A flush waits for done_ to reach accepted_ at its start.
  uint64_t accepted_ = 0;
  uint64_t done_ = 0;
  uint64_t dropped_ = 0;
  uint64_t exported_ = 0;
  uint64_t failed_ = 0;
  std::string last_error_;
  std::thread worker_;
};

}  // namespace pantau::sdk::internal

#endif  // PANTAU_SDK_SRC_BATCHER_H_
