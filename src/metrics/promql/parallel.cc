#include "metrics/promql/parallel.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

namespace pantau::metrics::promql {
namespace {

// Threads that run ParallelFor's helpers, started on first use and kept
// for the process's life. Starting and joining a thread per call took tens
// of microseconds, a visible share of a query that takes one or two
// milliseconds (a subquery calls ParallelFor twice).
class HelperPool {
 public:
  static HelperPool& Get() {
    static HelperPool* pool = new HelperPool();  // never destroyed: helpers
    return *pool;                                // may outlive main()
  }

  void Submit(std::function<void()> fn) {
    std::unique_lock<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
    // One idle helper per queued task; beyond the cap tasks wait, and
    // ParallelFor's caller withdraws those that never started.
    if (idle_ < static_cast<int>(queue_.size()) && threads_ < kMaxThreads) {
      ++threads_;
      ++idle_;
      std::thread([this] { Loop(); }).detach();
    }
    lock.unlock();
    cv_.notify_one();
  }

 private:
  static constexpr int kMaxThreads = 64;

  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return !queue_.empty(); });
      std::function<void()> fn = std::move(queue_.front());
      queue_.pop_front();
      --idle_;
      lock.unlock();
      fn();
      fn = nullptr;
      lock.lock();
      ++idle_;
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  int threads_ = 0;
  int idle_ = 0;
};

// Helpers of one ParallelFor call: the caller waits for those that
// started and withdraws the rest.
struct HelperState {
  std::mutex mu;
  std::condition_variable cv;
  int running = 0;
  bool closed = false;
};

int HardwareThreads() {
  // hardware_concurrency() reads /sys on every call.
  static const int n = static_cast<int>(std::thread::hardware_concurrency());
  return n;
}

}  // namespace

int ParallelThreads(int option, size_t n) {
  // By default at most 8: beyond that, concurrent queries would mostly
  // compete with each other for cores.
  constexpr int kMaxDefaultThreads = 8;
  int hw =
      option > 0 ? option : std::min(kMaxDefaultThreads, HardwareThreads());
  // Below a few series per thread the hand-off costs more than it saves.
  constexpr size_t kMinItemsPerThread = 4;
  size_t by_items = std::max<size_t>(1, n / kMinItemsPerThread);
  return static_cast<int>(
      std::clamp<size_t>(by_items, 1, static_cast<size_t>(std::max(hw, 1))));
}

absl::Status ParallelFor(size_t n, int threads, std::atomic<bool>* stop,
                         absl::FunctionRef<void(size_t i, int worker)> fn,
                         absl::FunctionRef<absl::Status()> poll) {
  std::atomic<size_t> next{0};
  auto work = [&](int worker) {
    while (!stop->load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= n) return;
      fn(i, worker);
    }
  };
  std::shared_ptr<HelperState> state;
  for (int w = 1; w < threads && static_cast<size_t>(w) < n; ++w) {
    if (state == nullptr) state = std::make_shared<HelperState>();
    // `work` lives on this frame: a helper touches it only after checking,
    // under the lock, that this call has not returned.
    HelperPool::Get().Submit([state, &work, w] {
      {
        std::lock_guard<std::mutex> lock(state->mu);
        if (state->closed) return;
        ++state->running;
      }
      work(w);
      std::lock_guard<std::mutex> lock(state->mu);
      if (--state->running == 0) state->cv.notify_all();
    });
  }
  absl::Status status;
  while (!stop->load(std::memory_order_relaxed)) {
    status = poll();
    if (!status.ok()) {
      stop->store(true);
      break;
    }
    size_t i = next.fetch_add(1, std::memory_order_relaxed);
    if (i >= n) break;
    fn(i, 0);
  }
  if (state != nullptr) {
    std::unique_lock<std::mutex> lock(state->mu);
    state->closed = true;
    state->cv.wait(lock, [&] { return state->running == 0; });
  }
  return status;
}

}  // namespace pantau::metrics::promql
