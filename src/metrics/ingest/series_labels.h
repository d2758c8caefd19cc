// Building a series' Labels from pushed name/value pairs, with the checks
// Prometheus applies to pushed data: valid label names, a valid metric
// name in __name__, UTF-8 values, no repeated names. Empty values are
// dropped (an empty value means "no label").
//
// Thread safety: pure functions.
#ifndef PANTAU_METRICS_INGEST_SERIES_LABELS_H_
#define PANTAU_METRICS_INGEST_SERIES_LABELS_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/labels.h"

namespace pantau::metrics::ingest {

// `pairs` may be in any order; already-sorted input (what senders send)
// takes a fast path. INVALID_ARGUMENT names the offending label.
absl::StatusOr<base::Labels> ValidatedLabels(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs);

}  // namespace pantau::metrics::ingest

#endif  // PANTAU_METRICS_INGEST_SERIES_LABELS_H_
