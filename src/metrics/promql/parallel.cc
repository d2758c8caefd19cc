#include "metrics/promql/parallel.h"

#include <algorithm>
#include <thread>
#include <vector>

namespace pantau::metrics::promql {

int ParallelThreads(int option, size_t n) {
  // By default at most 8: beyond that, concurrent queries would mostly
  // compete with each other for cores.
  constexpr int kMaxDefaultThreads = 8;
  int hw =
      option > 0
          ? option
          : std::min(kMaxDefaultThreads,
                     static_cast<int>(std::thread::hardware_concurrency()));
  // A thread costs tens of microseconds to start; below a few series per
  // thread the work is too small to pay for it.
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
  std::vector<std::thread> pool;
  for (int w = 1; w < threads && static_cast<size_t>(w) < n; ++w) {
    pool.emplace_back(work, w);
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
  for (std::thread& t : pool) t.join();
  return status;
}

}  // namespace pantau::metrics::promql
