// The XOR sample chunk (docs/format/tsdb-chunks.md): an appendable encoder
// and a bounds-checked iterator. Hand-written bit packing because it is the
// hottest path of ingestion and the format is ours.
//
// Thread safety: an XorChunk is not synchronized (the head guards it with the
// series' stripe lock); an XorIterator belongs to one thread and reads bytes
// that must outlive it.
#ifndef PANTAU_METRICS_TSDB_CHUNK_H_
#define PANTAU_METRICS_TSDB_CHUNK_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

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

// Iterates the samples of an encoded XOR chunk. Malformed input stops the
// iteration with a DATA_LOSS status.
class XorIterator {
 public:
  XorIterator() = default;
  explicit XorIterator(std::string_view chunk);

  // Advances; false at the end or on error (see status()).
  bool Next();
  int64_t t() const { return t_; }
  double v() const;
  uint64_t v_bits() const { return v_; }
  const absl::Status& status() const { return status_; }
  int num_samples() const { return total_; }

 private:
  bool ReadBits(int n, uint64_t* out);
  bool ReadBit(bool* out);
  bool ReadVbits(uint64_t* out);
  bool ReadValue();
  bool Fail(const char* what);

  std::string_view data_;
  size_t bitpos_ = 0;
  size_t bitlen_ = 0;
  int total_ = 0;
  int read_ = 0;
  int64_t t_ = 0;
  int64_t delta_ = 0;
  uint64_t v_ = 0;
  uint8_t leading_ = 0xff;
  uint8_t trailing_ = 0;
  absl::Status status_;
};

// Checks a whole chunk decodes (used on data read from disk before it is
// handed to the head); returns the number of samples and time range.
absl::Status ValidateXorChunk(std::string_view chunk, int* samples,
                              int64_t* mint, int64_t* maxt);

}  // namespace pantau::metrics::tsdb

#endif  // PANTAU_METRICS_TSDB_CHUNK_H_
