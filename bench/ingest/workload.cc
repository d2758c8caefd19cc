#include "workload.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace pantau::bench {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

void Add(std::vector<SeriesSpec>* out, const std::string& family,
         const std::string& name, Labels labels, Kind kind, double rate,
         double level, double resolution) {
  labels.emplace_back("__name__", name);
  std::sort(labels.begin(), labels.end());
  out->push_back({family, std::move(labels), kind, rate, level, resolution});
}

// One host's worth of series, as node_exporter plus one instrumented
// service would expose them.
void AddHost(int host, std::vector<SeriesSpec>* out) {
  const std::string instance =
      "host-" + std::to_string(host) + ".example.internal:9100";
  auto base = [&](Labels extra) {
    extra.emplace_back("job", "node");
    extra.emplace_back("instance", instance);
    return extra;
  };
  static const char* kModes[] = {"idle",    "iowait", "irq",    "nice",
                                 "softirq", "steal",  "system", "user"};
  const double mode_share[] = {0.7,  0.02,  0.001, 0.005,
                               0.01, 0.001, 0.08,  0.18};
  for (int cpu = 0; cpu < 8; ++cpu) {
    for (int m = 0; m < 8; ++m) {
      Add(out, "node_cpu_seconds", "node_cpu_seconds_total",
          base({{"cpu", std::to_string(cpu)}, {"mode", kModes[m]}}),
          Kind::kCounter, mode_share[m], 0, 0.01);
    }
  }
  static const char* kMem[] = {
      "MemTotal",  "MemFree",    "MemAvailable", "Buffers",      "Cached",
      "SwapTotal", "SwapFree",   "Active",       "Inactive",     "Dirty",
      "Writeback", "Slab",       "SReclaimable", "SUnreclaim",   "Shmem",
      "Mapped",    "PageTables", "KernelStack",  "Committed_AS", "AnonPages"};
  for (int i = 0; i < 20; ++i) {
    const std::string name = std::string("node_memory_") + kMem[i] + "_bytes";
    Add(out, name, name, base({}), Kind::kGauge, 0,
        (i == 0 || i == 5) ? 34359738368.0 : 1e9 * (1 + i % 7), 4096);
  }
  static const char* kDisks[] = {"nvme0n1", "sda", "sdb"};
  static const char* kDiskCounters[] = {
      "node_disk_read_bytes_total", "node_disk_written_bytes_total",
      "node_disk_reads_completed_total", "node_disk_writes_completed_total",
      "node_disk_io_time_seconds_total"};
  const double disk_rates[] = {2e6, 5e6, 150, 400, 0.05};
  const double disk_res[] = {512, 512, 1, 1, 0.001};
  for (const char* d : kDisks) {
    for (int i = 0; i < 5; ++i) {
      std::string fam = kDiskCounters[i];
      fam.resize(fam.size() - 6);
      Add(out, fam, kDiskCounters[i], base({{"device", d}}), Kind::kCounter,
          disk_rates[i], 0, disk_res[i]);
    }
  }
  struct Fs {
    const char* device;
    const char* mount;
    const char* fstype;
  };
  static const Fs kFs[] = {{"/dev/nvme0n1p2", "/", "ext4"},
                           {"/dev/nvme0n1p1", "/boot/efi", "vfat"},
                           {"/dev/sda1", "/var/lib/data", "xfs"},
                           {"tmpfs", "/run", "tmpfs"}};
  static const char* kFsGauges[] = {
      "node_filesystem_avail_bytes", "node_filesystem_free_bytes",
      "node_filesystem_size_bytes", "node_filesystem_files_free"};
  for (const Fs& fs : kFs) {
    for (int i = 0; i < 4; ++i) {
      Add(out, kFsGauges[i], kFsGauges[i],
          base({{"device", fs.device},
                {"fstype", fs.fstype},
                {"mountpoint", fs.mount}}),
          Kind::kGauge, 0, i == 3 ? 6e6 : 2.5e11, i == 3 ? 1 : 4096);
    }
  }
  static const char* kNics[] = {"eth0", "eth1", "lo"};
  static const char* kNet[] = {
      "node_network_receive_bytes_total", "node_network_transmit_bytes_total",
      "node_network_receive_packets_total",
      "node_network_transmit_packets_total", "node_network_receive_drop_total"};
  const double net_rates[] = {3e6, 1e6, 2500, 1800, 0.01};
  for (const char* nic : kNics) {
    for (int i = 0; i < 5; ++i) {
      std::string fam = kNet[i];
      fam.resize(fam.size() - 6);
      Add(out, fam, kNet[i], base({{"device", nic}}), Kind::kCounter,
          net_rates[i], 0, 1);
    }
  }
  for (const char* l : {"node_load1", "node_load5", "node_load15"}) {
    Add(out, l, l, base({}), Kind::kGauge, 0, 1.5, 0.01);
  }
  Add(out, "node_context_switches", "node_context_switches_total", base({}),
      Kind::kCounter, 12000, 0, 1);
  Add(out, "node_intr", "node_intr_total", base({}), Kind::kCounter, 8000, 0,
      1);
  Add(out, "node_procs_running", "node_procs_running", base({}), Kind::kGauge,
      0, 3, 1);
  // The service on the host: request latency histograms per handler.
  static const char* kHandlers[] = {"/api/v1/orders", "/api/v1/users",
                                    "/api/v1/search", "/healthz"};
  static const char* kLe[] = {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
                              "0.5",   "1",    "2.5",   "5",    "10",  "+Inf"};
  const double le_share[] = {0.05, 0.15,  0.35,  0.55,  0.75,  0.9,
                             0.96, 0.985, 0.995, 0.998, 0.999, 1.0};
  const std::string app = "app-" + std::to_string(host) + ":8080";
  for (int h = 0; h < 4; ++h) {
    const double rps = 40.0 / (h + 1);
    auto lbl = [&](Labels extra) {
      extra.emplace_back("job", "api");
      extra.emplace_back("instance", app);
      extra.emplace_back("handler", kHandlers[h]);
      extra.emplace_back("method", "GET");
      return extra;
    };
    for (int b = 0; b < 12; ++b) {
      Add(out, "http_request_duration_seconds",
          "http_request_duration_seconds_bucket", lbl({{"le", kLe[b]}}),
          Kind::kBucket, rps * le_share[b], 0, 1);
    }
    Add(out, "http_request_duration_seconds",
        "http_request_duration_seconds_count", lbl({}), Kind::kBucket, rps, 0,
        1);
    Add(out, "http_request_duration_seconds",
        "http_request_duration_seconds_sum", lbl({}), Kind::kCounter,
        rps * 0.06, 0, 0.000001);
  }
}

}  // namespace

std::vector<SeriesSpec> BuildCatalog(int64_t n) {
  std::vector<SeriesSpec> out;
  out.reserve(n + 256);
  for (int host = 0; static_cast<int64_t>(out.size()) < n; ++host) {
    AddHost(host, &out);
  }
  out.resize(n);
  return out;
}

SeriesState::SeriesState(const SeriesSpec& spec, uint64_t seed)
    : spec_(&spec), rng_(seed * 0x9E3779B97F4A7C15ULL + 1) {
  value_ = spec.kind == Kind::kGauge
               ? spec.level
               : std::floor(spec.rate * 86400 * (0.5 + Uniform()) /
                            spec.resolution) *
                     spec.resolution;
}

double SeriesState::Uniform() {
  // xorshift64*: cheap, deterministic per series.
  rng_ ^= rng_ >> 12;
  rng_ ^= rng_ << 25;
  rng_ ^= rng_ >> 27;
  return static_cast<double>((rng_ * 2685821657736338717ULL) >> 11) * 0x1p-53;
}

double SeriesState::Next(double interval_s) {
  const double res = spec_->resolution;
  if (spec_->kind == Kind::kGauge) {
    // A bounded random walk; many gauges sit still between scrapes.
    if (Uniform() < 0.5) {
      const double step = spec_->level * 0.01 * (Uniform() - 0.5);
      value_ = std::max(0.0, value_ + step);
    }
  } else {
    // Counters grow by a jittered rate; buckets are integer counts.
    const double inc = spec_->rate * interval_s * (0.6 + 0.8 * Uniform());
    value_ += inc;
  }
  // Report the rounded value, keep the exact one so slow counters still
  // move; a short decimal, as an exporter's would be.
  double out = std::round(value_ / res) * res;
  if (res < 1) {
    const double scale = std::round(1 / res);
    out = std::round(out * scale) / scale;
  }
  return out;
}

}  // namespace pantau::bench
