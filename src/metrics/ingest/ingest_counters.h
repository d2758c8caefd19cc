// Counters of what the push receivers (remote_write, OTLP) accepted and
// refused, by reason, for pantau's own /metrics. The server exports them,
// e.g. as pantau_ingest_rejected_samples_total{protocol="remote_write",
// reason="out_of_order"}.
//
// Thread safety: all counters are atomics; safe for concurrent use.
#ifndef PANTAU_METRICS_INGEST_INGEST_COUNTERS_H_
#define PANTAU_METRICS_INGEST_INGEST_COUNTERS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

#include "absl/status/status.h"

namespace pantau::metrics::ingest {

// Why a request, series or sample was refused.
enum class RejectReason {
  kCorruptCompression = 0,  // body is not valid snappy/gzip
  kBadProtobuf,             // body does not decode as the message
  kBadJson,                 // OTLP JSON that does not decode
  kTooLarge,                // body (or its decompressed form) over the limit
  kInvalidLabels,           // bad metric/label name, invalid UTF-8, dupes
  kOutOfOrder,              // older than the series' newest sample
  kDuplicate,               // same timestamp, different value
  kOutOfBounds,             // older than the head accepts
  kSeriesLimit,             // active-series limits
  kUnsupported,             // native histograms, delta temporality, ...
  kStorage,                 // storage failure (retryable)
  kCount
};

std::string_view RejectReasonName(RejectReason r);

// Classifies an error returned by Appender::Append (see storage.h and the
// TSDB head): OUT_OF_RANGE is out of bounds, ALREADY_EXISTS a duplicate,
// RESOURCE_EXHAUSTED a limit, INVALID_ARGUMENT out of order (or invalid);
// anything else is a storage failure worth retrying.
RejectReason ClassifyAppendError(const absl::Status& s);

// True for reasons that are the sender's fault (HTTP 4xx, not retried).
inline bool IsClientError(RejectReason r) {
  return r != RejectReason::kStorage;
}

struct IngestCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> samples_accepted{0};
  std::atomic<uint64_t> exemplars_accepted{0};
  std::atomic<uint64_t> exemplars_rejected{0};
  // Samples (or, for request-level failures, requests) refused by reason.
  std::atomic<uint64_t> rejected[static_cast<int>(RejectReason::kCount)] = {};

  void Reject(RejectReason r, uint64_t n = 1) {
    rejected[static_cast<int>(r)].fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t Rejected(RejectReason r) const {
    return rejected[static_cast<int>(r)].load(std::memory_order_relaxed);
  }
  // Calls fn(reason_name, count) for every reason, for export.
  void ForEachRejected(
      const std::function<void(std::string_view, uint64_t)>& fn) const;
};

}  // namespace pantau::metrics::ingest

#endif  // PANTAU_METRICS_INGEST_INGEST_COUNTERS_H_
