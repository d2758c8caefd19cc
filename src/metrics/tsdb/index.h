// The block index (docs/format/tsdb-index.md): a writer that builds it from
// series given in label order, and a reader that validates the whole file
// on open and then answers postings and series lookups from memory.
//
// Thread safety: IndexWriter is single-threaded; IndexReader is immutable
// after Open and safe for concurrent use.
#ifndef PANTAU_METRICS_TSDB_INDEX_H_
#define PANTAU_METRICS_TSDB_INDEX_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/labels.h"
#include "metrics/tsdb/postings.h"

namespace pantau::metrics::tsdb {

struct ChunkMeta {
  int64_t mint = 0;
  int64_t maxt = 0;
  uint64_t ref = 0;  // offset in the chunks file
};

class IndexWriter {
 public:
  // Series must be added in strictly increasing label order.
  absl::Status AddSeries(const base::Labels& labels,
                         const std::vector<ChunkMeta>& chunks);
  // The complete index file.
  std::string Finish();

 private:
  std::vector<base::Labels> labels_;
  std::vector<std::vector<ChunkMeta>> chunks_;
};

class IndexReader : public IndexLookup {
 public:
  // Validates every section; DATA_LOSS on any inconsistency.
  static absl::StatusOr<std::unique_ptr<IndexReader>> Open(std::string data);

  size_t num_series() const { return series_offsets_.size(); }
  absl::Status Series(uint64_t id, base::Labels* labels,
                      std::vector<ChunkMeta>* chunks) const;
  std::vector<std::string> LabelNames() const;

  void ForEachValue(std::string_view name,
                    const std::function<void(std::string_view)>& fn) override;
  Postings Get(std::string_view name, std::string_view value) override;
  Postings All() override;

 private:
  IndexReader() = default;
  absl::Status Parse();
  absl::Status DecodePostings(uint64_t off, uint64_t len, Postings* out) const;

  std::string data_;
  std::vector<std::string_view> symbols_;
  std::string_view series_;
  std::vector<uint64_t> series_offsets_;
  std::string_view postings_;
  struct Entry {
    std::string_view value;
    uint64_t off, len;
  };
  // name -> values (sorted) with their postings location.
  std::map<std::string_view, std::vector<Entry>, std::less<>> table_;
};

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_INDEX_H_
