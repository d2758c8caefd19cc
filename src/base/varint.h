// Little-endian fixed-width and LEB128 variable-width integer encoding, the
// building blocks of every on-disk and wire format pantau writes itself.
// Hand-written because it sits on every storage hot path.
//
// Thread safety: free functions are pure; a ByteReader is not shared.
#ifndef PANTAU_BASE_VARINT_H_
#define PANTAU_BASE_VARINT_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace pantau::base {

inline constexpr int kMaxVarint32Bytes = 5;
inline constexpr int kMaxVarint64Bytes = 10;

inline uint64_t ZigZagEncode(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t ZigZagDecode(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

// Writes v at dst (which has room for kMaxVarint64Bytes); returns the end.
char* EncodeVarint64(char* dst, uint64_t v);
int VarintLength(uint64_t v);

void PutVarint32(std::string* dst, uint32_t v);
void PutVarint64(std::string* dst, uint64_t v);
void PutVarsint64(std::string* dst, int64_t v);  // zigzag
void PutFixed32(std::string* dst, uint32_t v);
void PutFixed64(std::string* dst, uint64_t v);
void PutBigEndian32(std::string* dst, uint32_t v);
// uvarint length followed by the bytes.
void PutLengthPrefixed(std::string* dst, std::string_view bytes);

inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;  // little-endian host (x86-64, arm64)
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void EncodeFixed32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }
inline void EncodeFixed64(char* dst, uint64_t v) { std::memcpy(dst, &v, 8); }

// Decodes from [p, limit); returns the byte after the value, or nullptr if
// the input ends early or the value overflows.
const char* DecodeVarint64(const char* p, const char* limit, uint64_t* v);
const char* DecodeVarint32(const char* p, const char* limit, uint32_t* v);

// Reads values in order from a byte string; every Read returns false (and
// leaves the reader failed) when the input is short or malformed, so a
// decoder can read everything and check ok() once.
class ByteReader {
 public:
  explicit ByteReader(std::string_view data)
      : p_(data.data()), end_(data.data() + data.size()) {}

  bool ReadVarint32(uint32_t* v);
  bool ReadVarint64(uint64_t* v);
  bool ReadVarsint64(int64_t* v);
  bool ReadFixed32(uint32_t* v);
  bool ReadFixed64(uint64_t* v);
  bool ReadBytes(size_t n, std::string_view* out);
  bool ReadLengthPrefixed(std::string_view* out);
  bool Skip(size_t n);

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  std::string_view rest() const { return {p_, remaining()}; }

 private:
  bool Fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace pantau::base

#endif  // PANTAU_BASE_VARINT_H_
