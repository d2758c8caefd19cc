// The standard process metrics of Prometheus client libraries, read from
// /proc at each collection (Linux only):
//   process_cpu_seconds_total       user + system CPU time
//   process_resident_memory_bytes   resident set size
//   process_virtual_memory_bytes    virtual memory size
//   process_open_fds                open file descriptors
//   process_max_fds                 the soft limit on open files
//   process_start_time_seconds      start time since the Unix epoch
// A value that cannot be read is left out of that collection.
//
//   registry.AddCollector(std::make_shared<sdk::ProcessCollector>());
//
// Thread safety: Collect may run concurrently; it keeps no state.
#ifndef PANTAU_SDK_PROCESS_COLLECTOR_H_
#define PANTAU_SDK_PROCESS_COLLECTOR_H_

#include <string>
#include <vector>

#include "pantau/sdk/metrics.h"

namespace pantau::sdk {

class ProcessCollector : public Collector {
 public:
  // `proc_root`: where procfs is mounted (tests pass a fake tree);
  // `pid_dir`: the process's directory under it. Defaults: this process.
  explicit ProcessCollector(std::string proc_root = "/proc",
                            std::string pid_dir = "self");

  void Collect(std::vector<FamilySnapshot>* out) const override;

 private:
  std::string proc_root_;
  std::string pid_dir_;
  long ticks_per_second_;
  long page_size_;
};

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_PROCESS_COLLECTOR_H_
