// A zero-copy reader of prometheus.WriteRequest (proto/prometheus) in the
// protobuf wire format. Hand-written because it is the remote_write hot
// path: libprotobuf allocates a string per label (even on an arena), while
// this hands out string_views into the decompressed body and reuses its
// vectors, so steady-state decoding allocates nothing. Tests check it
// against libprotobuf's encoding of the same messages.
//
//   WriteRequestReader r(raw);
//   WriteRequestReader::Series s;
//   while (r.Next(&s)) { use(s.labels, s.samples, s.exemplars); }
//   if (!r.status().ok()) ...  // malformed
//
// Unknown fields are skipped, as protobuf requires; metadata (field 3) is
// collected into metadata() as the reader passes it.
//
// Thread safety: a reader belongs to one thread.
#ifndef PANTAU_METRICS_INGEST_WRITE_REQUEST_READER_H_
#define PANTAU_METRICS_INGEST_WRITE_REQUEST_READER_H_

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace pantau::metrics::ingest {

class WriteRequestReader {
 public:
  using LabelPairs = std::vector<std::pair<std::string_view, std::string_view>>;
  struct SampleView {
    int64_t timestamp = 0;
    double value = 0;
  };
  struct ExemplarView {
    LabelPairs labels;
    double value = 0;
    int64_t timestamp = 0;
  };
  struct MetadataView {
    uint64_t type = 0;  // MetricMetadata.MetricType
    std::string_view family;
    std::string_view help;
    std::string_view unit;
  };
  struct Series {
    LabelPairs labels;  // in wire order
    std::vector<SampleView> samples;
    std::vector<ExemplarView> exemplars;  // first `num_exemplars` valid
    size_t num_exemplars = 0;
    size_t num_histograms = 0;  // native histograms: counted, not decoded
  };

  // `data` must outlive the reader and every view it hands out.
  explicit WriteRequestReader(std::string_view data) : data_(data) {}

  // Fills `out` with the next time series; false at the end or on error.
  // Views stay valid as long as `data`; `out`'s vectors are reused.
  bool Next(Series* out);

  // Whether `data` is, at the top level, only timeseries (1) and metadata
  // (3) fields with consistent lengths: a cheap test that tells a raw
  // WriteRequest from a snappy-compressed one.
  static bool LooksLikeWriteRequest(std::string_view data);

  // INVALID_ARGUMENT naming the problem once Next returned false on bad
  // input; OK at a clean end.
  const absl::Status& status() const { return status_; }
  // The metadata entries passed so far (all of them once Next returned
  // false).
  const std::vector<MetadataView>& metadata() const { return metadata_; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  absl::Status status_;
  std::vector<MetadataView> metadata_;
};

}  // namespace pantau::metrics::ingest

#endif  // PANTAU_METRICS_INGEST_WRITE_REQUEST_READER_H_
