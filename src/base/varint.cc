#include "base/varint.h"

namespace pantau::base {

char* EncodeVarint64(char* dst, uint64_t v) {
  auto* p = reinterpret_cast<unsigned char*>(dst);
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return reinterpret_cast<char*>(p);
}

int VarintLength(uint64_t v) {
  int len = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++len;
  }
  return len;
}

void PutVarint32(std::string* dst, uint32_t v) { PutVarint64(dst, v); }

void PutVarint64(std::string* dst, uint64_t v) {
  char buf[kMaxVarint64Bytes];
  char* end = EncodeVarint64(buf, v);
  dst->append(buf, end - buf);
}

void PutVarsint64(std::string* dst, int64_t v) {
  PutVarint64(dst, ZigZagEncode(v));
}

void PutFixed32(std::string* dst, uint32_t v) {
  char buf[4];
  EncodeFixed32(buf, v);
  dst->append(buf, 4);
}

void PutFixed64(std::string* dst, uint64_t v) {
  char buf[8];
  EncodeFixed64(buf, v);
  dst->append(buf, 8);
}

void PutBigEndian32(std::string* dst, uint32_t v) {
  char buf[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                 static_cast<char>(v >> 8), static_cast<char>(v)};
  dst->append(buf, 4);
}

void PutLengthPrefixed(std::string* dst, std::string_view bytes) {
  PutVarint64(dst, bytes.size());
  dst->append(bytes);
}

const char* DecodeVarint64(const char* p, const char* limit, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63 && p < limit; shift += 7) {
    uint64_t byte = static_cast<unsigned char>(*p++);
    if (shift == 63 && byte > 1) return nullptr;  // overflows 64 bits
    result |= (byte & 0x7f) << shift;
    if (byte < 0x80) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

const char* DecodeVarint32(const char* p, const char* limit, uint32_t* v) {
  uint64_t wide;
  const char* next = DecodeVarint64(p, limit, &wide);
  if (next == nullptr || wide > UINT32_MAX) return nullptr;
  *v = static_cast<uint32_t>(wide);
  return next;
}

bool ByteReader::ReadVarint32(uint32_t* v) {
  const char* next = DecodeVarint32(p_, end_, v);
  if (next == nullptr) return Fail();
  p_ = next;
  return true;
}

bool ByteReader::ReadVarint64(uint64_t* v) {
  const char* next = DecodeVarint64(p_, end_, v);
  if (next == nullptr) return Fail();
  p_ = next;
  return true;
}

bool ByteReader::ReadVarsint64(int64_t* v) {
  uint64_t u;
  if (!ReadVarint64(&u)) return false;
  *v = ZigZagDecode(u);
  return true;
}

bool ByteReader::ReadFixed32(uint32_t* v) {
  if (remaining() < 4) return Fail();
  *v = DecodeFixed32(p_);
  p_ += 4;
  return true;
}

bool ByteReader::ReadFixed64(uint64_t* v) {
  if (remaining() < 8) return Fail();
  *v = DecodeFixed64(p_);
  p_ += 8;
  return true;
}

bool ByteReader::ReadBytes(size_t n, std::string_view* out) {
  if (remaining() < n) return Fail();
  *out = std::string_view(p_, n);
  p_ += n;
  return true;
}

bool ByteReader::ReadLengthPrefixed(std::string_view* out) {
  uint64_t n;
  if (!ReadVarint64(&n)) return false;
  if (n > remaining()) return Fail();
  return ReadBytes(static_cast<size_t>(n), out);
}

bool ByteReader::Skip(size_t n) {
  if (remaining() < n) return Fail();
  p_ += n;
  return true;
}

}  // namespace pantau::base
