// Metric metadata (type, help, unit) that arrived with pushed data:
// remote_write's metadata field and each OTLP metric's description and
// unit. Scraped metadata lives with each scrape target instead; the server
// shows both on /api/v1/metadata.
//
// Bounded: at most `max_families` families are kept; metadata of further
// new families is dropped (and counted) rather than growing without end.
//
// Thread safety: all methods may be called concurrently.
#ifndef PANTAU_METRICS_INGEST_METADATA_STORE_H_
#define PANTAU_METRICS_INGEST_METADATA_STORE_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace pantau::metrics::ingest {

struct PushedMetadata {
  std::string type;  // "counter", "gauge", "histogram", ..., "unknown"
  std::string help;
  std::string unit;
  friend bool operator==(const PushedMetadata&,
                         const PushedMetadata&) = default;
};

class MetadataStore {
 public:
  explicit MetadataStore(size_t max_families = 100000)
      : max_families_(max_families) {}

  // Records the newest metadata of `family`.
  void Set(std::string_view family, PushedMetadata m);
  // Metadata of `family`, or of every family when it is empty.
  std::vector<std::pair<std::string, PushedMetadata>> Get(
      std::string_view family) const;
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  const size_t max_families_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, PushedMetadata> families_
      ABSL_GUARDED_BY(mu_);
  std::atomic<uint64_t> dropped_{0};
};

// remote_write's MetricMetadata.MetricType as Prometheus names it.
std::string_view RemoteWriteTypeName(uint64_t type);

}  // namespace pantau::metrics::ingest

#endif  // PANTAU_METRICS_INGEST_METADATA_STORE_H_
