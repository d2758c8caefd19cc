// Blocks (docs/format/tsdb-block.md, tsdb-index.md): writing a block from a
// sorted SeriesSet, and reading one back for queries and compaction.
//
// Thread safety: a Block is immutable once opened and safe for concurrent
// reads; WriteBlock is a pure function of its input.
#ifndef PANTAU_METRICS_TSDB_BLOCK_H_
#define PANTAU_METRICS_TSDB_BLOCK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/env.h"
#include "base/mapped_file.h"
#include "metrics/storage/storage.h"
#include "metrics/tsdb/index.h"
#include "metrics/tsdb/series_set.h"

namespace pantau::metrics::tsdb {

struct BlockMeta {
  std::string ulid;
  int64_t min_time = 0;  // inclusive
  int64_t max_time = 0;  // exclusive
  uint64_t num_samples = 0;
  uint64_t num_series = 0;
  uint64_t num_chunks = 0;
  int level = 1;
  std::vector<std::string> sources;
};

std::string EncodeMeta(const BlockMeta& meta);
absl::StatusOr<BlockMeta> ParseMeta(std::string_view json);

// A new ULID for time `ms` (26 Crockford base32 characters).
std::string NewUlid(int64_t ms);

// Writes the samples of `input` within [mint, maxt) as a block under
// `parent` (tmp dir, fsync, rename). `input` must yield series in label
// order. Returns the meta; writes nothing and returns NOT_FOUND-free OK
// with num_series == 0 if there was nothing to write.
absl::StatusOr<BlockMeta> WriteBlock(base::Env* env, const std::string& parent,
                                     SeriesSet& input, int64_t mint,
                                     int64_t maxt, int level,
                                     std::vector<std::string> sources);

// The chunk of the record at offset `ref` of a block's chunks file `file`
// (its encoded bytes, a view into `file`), after checking the record lies
// inside the file, its encoding and its CRC. DATA_LOSS otherwise.
absl::Status ReadChunkRecord(std::string_view file, uint64_t ref,
                             std::string_view* chunk);

class Block {
 public:
  static absl::StatusOr<std::shared_ptr<Block>> Open(base::Env* env,
                                                     std::string dir);

  const BlockMeta& meta() const { return meta_; }
  const std::string& dir() const { return dir_; }
  uint64_t size_bytes() const { return size_bytes_; }

  // Chunks of the matching series overlapping [mint, maxt]. The chunks
  // point into the block's chunks file mapping, which each series keeps
  // alive (ChunkedSeries::owner), so they outlive the Block.
  absl::StatusOr<std::vector<std::shared_ptr<const ChunkedSeries>>> Select(
      const std::vector<Matcher>& matchers, int64_t mint, int64_t maxt) const;
  IndexReader& index() const { return *index_; }

 private:
  Block() = default;
  std::string dir_;
  BlockMeta meta_;
  uint64_t size_bytes_ = 0;
  std::unique_ptr<IndexReader> index_;
  // The chunks file, mapped once at Open: Select hands out views into it
  // with no read or copy per chunk.
  std::shared_ptr<const base::MappedFile> chunks_;
};

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_BLOCK_H_
