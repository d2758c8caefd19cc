#include "metrics/ingest/ingest_counters.h"

namespace pantau::metrics::ingest {

std::string_view RejectReasonName(RejectReason r) {
  switch (r) {
    case RejectReason::kCorruptCompression:
      return "corrupt_compression";
    case RejectReason::kBadProtobuf:
      return "bad_protobuf";
    case RejectReason::kBadJson:
      return "bad_json";
    case RejectReason::kTooLarge:
      return "too_large";
    case RejectReason::kInvalidLabels:
      return "invalid_labels";
    case RejectReason::kOutOfOrder:
      return "out_of_order";
    case RejectReason::kDuplicate:
      return "duplicate";
    case RejectReason::kOutOfBounds:
      return "out_of_bounds";
    case RejectReason::kSeriesLimit:
      return "series_limit";
    case RejectReason::kUnsupported:
      return "unsupported";
    case RejectReason::kStorage:
      return "storage";
    case RejectReason::kCount:
      break;
  }
  return "unknown";
}

RejectReason ClassifyAppendError(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOutOfRange:
      return RejectReason::kOutOfBounds;
    case absl::StatusCode::kAlreadyExists:
      return RejectReason::kDuplicate;
    case absl::StatusCode::kResourceExhausted:
      return RejectReason::kSeriesLimit;
    case absl::StatusCode::kInvalidArgument:
      return s.message().find("out of order") != absl::string_view::npos
                 ? RejectReason::kOutOfOrder
                 : RejectReason::kInvalidLabels;
    default:
      return RejectReason::kStorage;
  }
}

void IngestCounters::ForEachRejected(
    const std::function<void(std::string_view, uint64_t)>& fn) const {
  for (int i = 0; i < static_cast<int>(RejectReason::kCount); ++i) {
    fn(RejectReasonName(static_cast<RejectReason>(i)),
       rejected[i].load(std::memory_order_relaxed));
  }
}

}  // namespace pantau::metrics::ingest
