// The benchmark workload: a deterministic catalog of node_exporter-like
// series (plus an HTTP latency histogram per host) and the value each one
// takes at every simulated scrape. The remote_write sender and the
// OpenMetrics writer both draw from it, so Prometheus and pantau get
// exactly the same samples.
//
// Thread safety: a Catalog is immutable after construction; each
// SeriesState belongs to one thread.
#ifndef PANTAU_BENCH_INGEST_WORKLOAD_H_
#define PANTAU_BENCH_INGEST_WORKLOAD_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace pantau::bench {

enum class Kind { kCounter, kGauge, kBucket };

struct SeriesSpec {
  std::string family;  // metric family ("node_cpu_seconds" for _total)
  // Sorted by name, __name__ included (remote_write wants them sorted).
  std::vector<std::pair<std::string, std::string>> labels;
  Kind kind;
  double rate;        // counters/buckets: mean increase per second
  double level;       // gauges: typical value
  double resolution;  // values are multiples of it (as exporters report)
};

// `n` series over as many hosts as needed (~190 series per host).
std::vector<SeriesSpec> BuildCatalog(int64_t n);

// The evolving value of one series.
class SeriesState {
 public:
  SeriesState(const SeriesSpec& spec, uint64_t seed);
  // The value at the next scrape, `interval_s` after the previous one.
  double Next(double interval_s);

 private:
  const SeriesSpec* spec_;
  uint64_t rng_;
  double value_;
  double Uniform();  // [0, 1)
};

}  // namespace pantau::bench

#endif  // PANTAU_BENCH_INGEST_WORKLOAD_H_
