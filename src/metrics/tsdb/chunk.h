// Sample chunks (docs/format/tsdb-chunks.md): the appendable XOR encoder
// the head writes, the packed encoding blocks store completed chunks in when
// it is smaller, and one bounds-checked iterator that reads both. Hand-written
// bit packing because it is the hottest path of ingestion and the formats
// are ours.
//
// Thread safety: an XorChunk is not synchronized (the head guards it with the
// series' stripe lock); a ChunkIterator belongs to one thread and reads bytes
// that must outlive it. The free functions are thread-compatible.
#ifndef PANTAU_METRICS_TSDB_CHUNK_H_
#define PANTAU_METRICS_TSDB_CHUNK_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "metrics/tsdb/format.h"

namespace pantau::metrics::tsdb {

class XorChunk {
 public:
  XorChunk();

  // Appends a sample. Precondition: num_samples() < kMaxSamplesPerChunk and
  // t > max_time() unless the chunk is empty (the head checks both).
  void Append(int64_t t, double v);

  int num_samples() const { return count_; }
  bool empty() const { return count_ == 0; }
  int64_t min_time() const { return mint_; }
  int64_t max_time() const { return t_; }
  // Bits of the newest value (valid when not empty).
  uint64_t last_value_bits() const { return v_; }
  // The encoded chunk; valid until the next Append.
  std::string_view bytes() const { return data_; }
  // Releases spare capacity once the chunk is complete.
  void ShrinkToFit() { data_.shrink_to_fit(); }
  // Takes the encoded bytes, leaving the chunk unusable.
  std::string Release() { return std::move(data_); }
  // Heap bytes owned (for memory accounting).
  size_t HeapBytes() const {
    return data_.capacity() > 15 ? data_.capacity() : 0;
  }

 private:
  void WriteBits(uint64_t v, int n);
  void WriteVbits(uint64_t v);
  void WriteValue(uint64_t bits);

  std::string data_;
  int64_t mint_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_ = 0;
  uint16_t count_ = 0;
  uint8_t free_bits_ = 0;   // unused low bits of the last byte
  uint8_t leading_ = 0xff;  // 0xff: no XOR window yet
  uint8_t trailing_ = 0;
};

// The block record encoding id of a packed chunk (tsdb-chunks.md; XOR is
// kEncodingXor in format.h).
inline constexpr uint8_t kEncodingPacked = 2;

// Whether a block's chunk record may carry `encoding`.
inline bool IsChunkEncoding(uint8_t encoding) {
  return encoding == kEncodingXor || encoding == kEncodingPacked;
}

// Iterates the samples of an encoded chunk, XOR or packed (the chunk's
// header says which). Malformed input stops the iteration with a DATA_LOSS
// status.
class ChunkIterator {
 public:
  ChunkIterator() = default;
  explicit ChunkIterator(std::string_view chunk);

  // Advances; false at the end or on error (see status()).
  bool Next() {
    // Inline: most packed samples come from the decoded frame.
    if (frame_pos_ < frame_len_) {
      t_ = frame_t_[frame_pos_];
      v_ = frame_v_[frame_pos_];
      ++frame_pos_;
      ++read_;
      return true;
    }
    return NextSlow();
  }
  int64_t t() const { return t_; }
  double v() const;
  uint64_t v_bits() const { return v_; }
  const absl::Status& status() const { return status_; }
  int num_samples() const { return total_; }

 private:
  // The next 64 bits of the stream, MSB first; zeros past its end.
  uint64_t Window() const;
  uint64_t WindowAt(size_t bitpos) const;
  bool NextSlow();
  bool ReadBits(int n, uint64_t* out);
  bool ReadBitsSlow(int n, uint64_t* out);
  bool ReadBit(bool* out);
  bool ReadVbits(uint64_t* out);
  bool ReadValue();
  bool Fail(const char* what);
  bool NextPacked();

  // One integer stream of a packed chunk: its coding parameters and the
  // predictor state.
  struct Stream {
    uint64_t mode = 0;
    uint64_t base = 0;
    uint64_t step = 0;
    uint64_t nsym = 0;
    uint64_t tb_u = 0;  // truncated binary: symbols < tb_u take tb_k bits
    uint64_t y1 = 0;    // previous two elements
    uint64_t y2 = 0;
    int j = 0;  // elements read
    uint8_t order = 0;
    uint8_t tb_k = 0;
    bool tb_none = false;  // one symbol: no bits
    bool has_mode = false;
    bool has_esc = false;
  };
  bool ReadParams(Stream* s);
  // Reads the next element; *special when it is a raw 64-bit value (value
  // stream only) instead of an integer.
  bool ReadElem(Stream* s, bool allow_special, bool* special, uint64_t* out);
  bool ReadElemSlow(Stream* s, bool allow_special, bool* special,
                    uint64_t* out);
  static bool DecodeCoded(const Stream& s, uint64_t w, int* used, uint64_t* r);
  static uint64_t Advance(Stream* s, uint64_t r);
  template <bool kTimeFree>
  int FillFrame();

  // Packed samples are decoded kFrame at a time (see FillFrame) into
  // frame_t_/frame_v_; Next hands them out.
  static constexpr int kFrame = 8;
  int64_t frame_t_[kFrame];
  uint64_t frame_v_[kFrame];
  uint8_t frame_pos_ = 0;
  uint8_t frame_len_ = 0;

  std::string_view data_;
  // The chunk's last (up to) 8 bytes and 8 zero bytes, so that Window()
  // near the end loads from here instead of past the chunk.
  uint8_t tail_[16] = {};
  size_t tail_start_ = 0;
  size_t bitpos_ = 0;
  size_t bitlen_ = 0;
  int total_ = 0;
  int read_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_ = 0;
  uint8_t leading_ = 0xff;
  uint8_t trailing_ = 0;
  bool packed_ = false;
  uint8_t scale_ = 0;
  Stream ts_;
  Stream vs_;
  absl::Status status_;
};

// The name the head and series sets know it by; it reads both encodings.
using XorIterator = ChunkIterator;

// Checks a whole chunk (either encoding) decodes (used on data read from
// disk before it is handed to the head); returns the number of samples and
// time range.
absl::Status ValidateXorChunk(std::string_view chunk, int* samples,
                              int64_t* mint, int64_t* maxt);

// Encodes samples in the packed encoding. Precondition: 1 <= t.size() ==
// v.size() <= kMaxSamplesPerChunk and t strictly increasing. Returns an
// empty string if the samples have no packed form (never for valid input
// in practice; callers then keep XOR).
//
// `bits`, if not null, receives where the bits went (for measurements).
struct PackedBits {
  // 2-byte header, stream parameters and the raw first elements of both
  // streams (t_0, first interval, first value(s)).
  int64_t header = 0;
  int64_t time = 0;      // the other timestamps
  int64_t values = 0;    // the other scaled-integer values
  int64_t specials = 0;  // values stored as raw 64 bits
};
std::string EncodePacked(std::span<const int64_t> t,
                         std::span<const uint64_t> v,
                         PackedBits* bits = nullptr);

struct EncodedChunk {
  uint8_t encoding;  // kEncodingXor or kEncodingPacked
  std::string data;
};
// For block writing and compaction: re-encodes a completed chunk (as
// XorChunk::bytes() gives it) in whichever encoding is smaller. Lossless:
// the result iterates to the same timestamps and value bits. A chunk that
// does not decode is returned unchanged as XOR.
EncodedChunk CompactChunk(std::string_view chunk);

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_CHUNK_H_
