// Every constant of the TSDB's on-disk formats (docs/format/tsdb-*.md), in
// one place so that writers, readers and fuzzers agree.
//
// Thread safety: constants only.
#ifndef PANTAU_METRICS_TSDB_FORMAT_H_
#define PANTAU_METRICS_TSDB_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace pantau::metrics::tsdb {

// Chunks (tsdb-chunks.md).
inline constexpr uint8_t kEncodingXor = 1;
inline constexpr int kMaxSamplesPerChunk = 240;

// WAL (tsdb-wal.md).
inline constexpr size_t kWalRecordHeaderSize = 9;  // length, crc, type
inline constexpr uint32_t kMaxWalRecordSize = 64u << 20;
inline constexpr size_t kDefaultWalSegmentSize = 128u << 20;
enum class WalRecordType : uint8_t {
  kSeries = 1,
  kSamples = 2,
  kSeriesChunks = 3,
};

// Blocks (tsdb-block.md, tsdb-index.md).
inline constexpr uint32_t kChunksMagic = 0x50544348;  // "PTCH"
inline constexpr uint8_t kChunksVersion = 1;
inline constexpr size_t kChunksHeaderSize = 5;
inline constexpr uint32_t kIndexMagic = 0x50544958;  // "PTIX"
inline constexpr uint8_t kIndexVersion = 1;
inline constexpr int kIndexSections = 6;
inline constexpr size_t kIndexTocSize = kIndexSections * 20 + 4;
inline constexpr int kMetaVersion = 1;
inline constexpr int64_t kDefaultBlockDurationMs = 2 * 3600 * 1000;

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_FORMAT_H_
