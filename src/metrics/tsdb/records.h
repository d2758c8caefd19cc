// WAL record framing and payloads (docs/format/tsdb-wal.md): encoding for
// the writer and bounds-checked decoding for replay and the fuzzer.
//
// Thread safety: pure functions.
#ifndef PANTAU_METRICS_TSDB_RECORDS_H_
#define PANTAU_METRICS_TSDB_RECORDS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "base/labels.h"
#include "metrics/storage/storage.h"
#include "metrics/tsdb/format.h"
#include "metrics/tsdb/series_set.h"

namespace pantau::metrics::tsdb {

struct RefSample {
  SeriesRef ref = 0;
  int64_t t = 0;
  double v = 0;
};

// Appends one framed record (length, crc, type, payload) to *out.
void AppendRecord(std::string* out, WalRecordType type,
                  std::string_view payload);

std::string EncodeSeries(
    const std::vector<std::pair<SeriesRef, const base::Labels*>>& series);
std::string EncodeSamples(const std::vector<RefSample>& samples);
std::string EncodeSeriesChunks(SeriesRef ref, const ChunkedSeries& series);

absl::Status DecodeSeries(std::string_view payload,
                          std::vector<std::pair<SeriesRef, base::Labels>>* out);
absl::Status DecodeSamples(std::string_view payload,
                           std::vector<RefSample>* out);
// How much of each chunk DecodeSeriesChunks checks. kFull decodes every
// sample and takes the time range from the samples. kHeader (for loading a
// checkpoint, whose records' checksums matched) checks the sample count and
// that the first sample is at the record's mint, and takes maxt from the
// record: decoding every sample cost as much as all the rest of loading a
// head snapshot, and whoever reads the chunk later uses the bounds-checked
// iterator anyway.
enum class ChunkCheck { kFull, kHeader };

// Fills ref and series (appending to its chunks and extra).
absl::Status DecodeSeriesChunks(std::string_view payload, SeriesRef* ref,
                                ChunkedSeries* series,
                                ChunkCheck check = ChunkCheck::kFull);

struct ScanResult {
  uint64_t valid_bytes = 0;  // end of the last good record
  bool corrupt = false;      // data after valid_bytes is not a good record
  std::string reason;
  uint64_t records = 0;
};

// Walks the framed records of a segment, calling fn for each one whose
// frame is intact. If fn returns an error the record counts as corrupt and
// the scan stops there.
ScanResult ScanRecords(
    std::string_view data,
    const std::function<absl::Status(WalRecordType, std::string_view)>& fn);

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_RECORDS_H_
