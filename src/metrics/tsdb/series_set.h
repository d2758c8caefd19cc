// The read side shared by head and blocks: a series' chunks as its source
// hands them out (copied from the head, views into a block's mapped chunks
// file), iterators over them, and the SeriesSet that merges equal label
// sets from several sources (head + blocks) into one series.
//
// Thread safety: objects here belong to one thread at a time.
#ifndef PANTAU_METRICS_TSDB_SERIES_SET_H_
#define PANTAU_METRICS_TSDB_SERIES_SET_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/labels.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::tsdb {

struct ChunkData {
  int64_t mint = 0;
  int64_t maxt = 0;
  std::string bytes;  // an encoded chunk (XOR or packed); empty if mapped
};

// One series as one source holds it. `chunks` are in time order and do not
// overlap; `extra` (out-of-order samples) is sorted by time and may overlap
// them (chunks win on equal timestamps).
struct ChunkedSeries {
  base::Labels labels;
  std::vector<ChunkData> chunks;
  std::vector<Sample> extra;
  // From a block: chunks[i]'s bytes are mapped[i], a view into the block's
  // chunks file mapping, and chunks[i].bytes is empty. Empty for series
  // that own their bytes (the head). Beside `chunks` rather than in
  // ChunkData so that the head, which stores its chunks as ChunkData, does
  // not pay 16 bytes per chunk for it.
  std::vector<std::string_view> mapped;
  // Keeps the memory `mapped` points into alive (a block's chunks file
  // mapping) for as long as the series and its iterators live, also after
  // the block itself is deleted by compaction or retention.
  std::shared_ptr<const void> owner;

  std::string_view chunk_bytes(size_t i) const {
    return mapped.empty() ? std::string_view(chunks[i].bytes) : mapped[i];
  }
};

// Iterates the union of several ChunkedSeries (of the same labels) within
// [mint, maxt]; on equal timestamps the earlier part wins.
std::unique_ptr<SampleIterator> NewMergedIterator(
    std::vector<std::shared_ptr<const ChunkedSeries>> parts, int64_t mint,
    int64_t maxt);

// A SeriesSet over parts from any number of sources: sorts them by labels
// (stable, so earlier sources win on equal timestamps) and merges equal
// label sets. Series with no sample in [mint, maxt] are skipped.
std::unique_ptr<SeriesSet> NewMergedSeriesSet(
    std::vector<std::shared_ptr<const ChunkedSeries>> parts, int64_t mint,
    int64_t maxt);

// A SeriesSet that yields nothing but an error.
std::unique_ptr<SeriesSet> NewErrorSeriesSet(absl::Status status);

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_SERIES_SET_H_
