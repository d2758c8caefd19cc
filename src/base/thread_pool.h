// A fixed set of worker threads taking tasks from one queue. The server
// keeps separate pools for ingest and query, so a heavy query cannot stall
// ingestion.
//
// Thread safety: Schedule may be called from any thread, including from a
// task. Destruction (or Shutdown) runs every task already scheduled, then
// joins the workers; scheduling after Shutdown is a programming error.
#ifndef PANTAU_BASE_THREAD_POOL_H_
#define PANTAU_BASE_THREAD_POOL_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace pantau::base {

class ThreadPool {
 public:
  // `threads` >= 1. `name` prefixes the worker thread names (max 15 chars
  // in total are kept by Linux).
  ThreadPool(int threads, std::string name);
  ~ThreadPool();

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void Schedule(std::function<void()> task);

  // Runs what is queued, then joins. Idempotent.
  void Shutdown();

  size_t QueueLength() const;
  int size() const { return static_cast<int>(workers_.size()); }

 private:
  void WorkerLoop();

  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
  std::string name_;
};

}  // namespace pantau::base

#endif  // PANTAU_BASE_THREAD_POOL_H_
