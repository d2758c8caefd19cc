#include "base/thread_pool.h"

#include <pthread.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace pantau::base {

ThreadPool::ThreadPool(int threads, std::string name) : name_(std::move(name)) {
  PANTAU_CHECK(threads >= 1) << "thread pool needs at least one thread";
  workers_.reserve(threads);
  for (int i = 0; i < threads; ++i) {
    workers_.emplace_back([this, i] {
      std::string thread_name = absl::StrCat(name_, "-", i).substr(0, 15);
      pthread_setname_np(pthread_self(), thread_name.c_str());
      WorkerLoop();
    });
  }
}

ThreadPool::~ThreadPool() { Shutdown(); }

void ThreadPool::Schedule(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  PANTAU_CHECK(!stopping_) << "Schedule after Shutdown on pool " << name_;
  queue_.push_back(std::move(task));
}

void ThreadPool::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ && workers_.empty()) return;
    stopping_ = true;
  }
  for (std::thread& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

size_t ThreadPool::QueueLength() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void ThreadPool::WorkerLoop() {
  while (true) {
    std::function<void()> task;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](ThreadPool* p) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return !p->queue_.empty() || p->stopping_;
          },
          this));
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

}  // namespace pantau::base
