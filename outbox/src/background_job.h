// One job at a time on a thread kept for the owner's life: Start a job,
// do other work meanwhile, Take its result. The relay publishes a batch
// this way while it claims the next; the consumer fetches the next batch
// while it handles the current one.
//
// A thread per job (std::async) cost a new stack and a fresh malloc arena
// each time, which glibc trims and the kernel zeroes again: ~6 % of a
// SQLite benchmark run's CPU went to clear_page in the relay.
//
// Thread safety: Start, Busy, Take and Cancel from one thread.
#ifndef PANTAU_OUTBOX_SRC_BACKGROUND_JOB_H_
#define PANTAU_OUTBOX_SRC_BACKGROUND_JOB_H_

#include <functional>
#include <optional>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pantau::outbox::internal {

template <typename T>
class BackgroundJob {
 public:
  BackgroundJob() : thread_([this] { Loop(); }) {}
  // A job started but not yet begun is dropped; one running is waited for.
  ~BackgroundJob() {
    {
      absl::MutexLock lock(&mu_);
      quit_ = true;
    }
    thread_.join();
  }
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  // Starts `job`; the previous one must have been taken.
  void Start(std::function<T()> job) {
    absl::MutexLock lock(&mu_);
    job_ = std::move(job);
    busy_ = true;
  }
  // Whether a job was started and its result not yet taken.
  bool Busy() {
    absl::MutexLock lock(&mu_);
    return busy_;
  }
  // The result of the job started last; blocks until it has run.
  T Take() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::optional<T>* r) { return r->has_value(); }, &result_));
    return TakeLocked();
  }
  // Drops the job started last if it has not begun (nullopt); otherwise
  // waits for it and returns its result. Nothing is busy afterwards.
  std::optional<T> Cancel() {
    absl::MutexLock lock(&mu_);
    if (!busy_) return std::nullopt;
    if (job_ != nullptr) {
      job_ = nullptr;
      busy_ = false;
      return std::nullopt;
    }
    mu_.Await(absl::Condition(
        +[](std::optional<T>* r) { return r->has_value(); }, &result_));
    return TakeLocked();
  }

 private:
  T TakeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    T out = *std::move(result_);
    result_.reset();
    busy_ = false;
    return out;
  }
  void Loop() {
    while (true) {
      std::function<T()> job;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &BackgroundJob::HasWork));
        if (quit_) return;
        job = std::move(job_);
        job_ = nullptr;
      }
      T out = job();
      absl::MutexLock lock(&mu_);
      result_ = std::move(out);
    }
  }
  bool HasWork() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return job_ != nullptr || quit_;
  }

  absl::Mutex mu_;
  std::function<T()> job_ ABSL_GUARDED_BY(mu_);  // not yet begun
  bool busy_ ABSL_GUARDED_BY(mu_) = false;       // started, not taken
  std::optional<T> result_ ABSL_GUARDED_BY(mu_);
  bool quit_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace pantau::outbox::internal

#endif  // PANTAU_OUTBOX_SRC_BACKGROUND_JOB_H_
