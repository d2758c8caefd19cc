#include "metrics/tsdb/chunk.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "base/varint.h"
#include "metrics/tsdb/format.h"

namespace pantau::metrics::tsdb {
namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Whether dod fits an n-bit two's complement field.
bool FitsSigned(int64_t dod, int n) {
  const int64_t lo = -(int64_t{1} << (n - 1));
  const int64_t hi = (int64_t{1} << (n - 1)) - 1;
  return dod >= lo && dod <= hi;
}

constexpr double kPow10[4] = {1, 10, 100, 1000};
// The cheapest decimal encoding costs 3 + 2 + 1 + 6 bits.
constexpr int kMinDecimalCost = 12;

double FromBits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// The scaled integer of a previous value, as encoder and decoder both
// compute it; false if it is not a finite value of sane size.
bool ScaledPrev(uint64_t prev_bits, int scale, int64_t* m) {
  const double p = FromBits(prev_bits) * kPow10[scale];
  if (!std::isfinite(p) || std::fabs(p) > 9.0e15) return false;
  *m = std::llround(p);
  return true;
}

// Finds the smallest scale s in 0..3 for which bits == (m_prev + delta) /
// 10^s exactly, with m_prev = llround(prev * 10^s): values that are
// decimals with few digits (as parsed from exposition text) then cost a
// small integer delta instead of an XOR of their mantissas.
bool DecimalDelta(uint64_t prev_bits, uint64_t bits, int* scale,
                  int64_t* delta) {
  const double v = FromBits(bits);
  if (!std::isfinite(v) || std::fabs(v) > 9.0e15) return false;
  for (int s = 0; s < 4; ++s) {
    const double scaled = v * kPow10[s];
    if (std::fabs(scaled) > 9.0e15) return false;
    const int64_t m = std::llround(scaled);
    const double back = static_cast<double>(m) / kPow10[s];
    uint64_t back_bits;
    std::memcpy(&back_bits, &back, sizeof back_bits);
    if (back_bits != bits) continue;
    int64_t mp;
    if (!ScaledPrev(prev_bits, s, &mp)) return false;
    const int64_t d = m - mp;
    if (base::ZigZagEncode(d) >= (uint64_t{1} << 48)) return false;
    *scale = s;
    *delta = d;
    return true;
  }
  return false;
}

int64_t SignExtend(uint64_t v, int n) {
  if (n == 64) return static_cast<int64_t>(v);
  const uint64_t sign = uint64_t{1} << (n - 1);
  return static_cast<int64_t>((v ^ sign) - sign);
}

}  // namespace

XorChunk::XorChunk() { data_.assign(2, '\0'); }

void XorChunk::WriteBits(uint64_t v, int n) {
  if (n < 64) v &= (uint64_t{1} << n) - 1;
  if (free_bits_ > 0) {
    const int take = n < free_bits_ ? n : free_bits_;
    data_.back() = static_cast<char>(
        static_cast<uint8_t>(data_.back()) |
        static_cast<uint8_t>((v >> (n - take)) << (free_bits_ - take)));
    free_bits_ -= take;
    n -= take;
  }
  while (n >= 8) {
    n -= 8;
    data_.push_back(static_cast<char>(v >> n));
  }
  if (n > 0) {
    data_.push_back(static_cast<char>(v << (8 - n)));
    free_bits_ = static_cast<uint8_t>(8 - n);
  }
}

void XorChunk::WriteVbits(uint64_t v) {
  do {
    const uint64_t group = v & 0x7f;
    v >>= 7;
    WriteBits(((v != 0 ? 1u : 0u) << 7) | group, 8);
  } while (v != 0);
}

void XorChunk::WriteValue(uint64_t bits) {
  const uint64_t x = bits ^ v_;
  if (x == 0) {
    WriteBits(0, 1);
    return;
  }
  int leading = std::countl_zero(x);
  const int trailing = std::countr_zero(x);
  if (leading > 31) leading = 31;
  const bool reuse =
      leading_ != 0xff && leading >= leading_ && trailing >= trailing_;
  const int xor_cost = reuse ? 2 + (64 - leading_ - trailing_)
                             : 3 + 5 + 6 + (64 - leading - trailing);
  int scale;
  int64_t delta;
  if (xor_cost > kMinDecimalCost && DecimalDelta(v_, bits, &scale, &delta)) {
    const uint64_t zz = base::ZigZagEncode(delta);
    const int width = zz < (1u << 6)    ? 6
                      : zz < (1u << 12) ? 12
                      : zz < (1u << 20) ? 20
                                        : 48;
    const int cost = 3 + 2 + (width == 6 ? 1 : width == 12 ? 2 : 3) + width;
    if (cost < xor_cost) {
      WriteBits(0b111, 3);
      WriteBits(static_cast<uint64_t>(scale), 2);
      if (width == 6) {
        WriteBits(0, 1);
      } else if (width == 12) {
        WriteBits(0b10, 2);
      } else if (width == 20) {
        WriteBits(0b110, 3);
      } else {
        WriteBits(0b111, 3);
      }
      WriteBits(zz, width);
      return;
    }
  }
  if (reuse) {
    WriteBits(0b10, 2);
    WriteBits(x >> trailing_, 64 - leading_ - trailing_);
    return;
  }
  const int n = 64 - leading - trailing;
  WriteBits(0b110, 3);
  WriteBits(static_cast<uint64_t>(leading), 5);
  WriteBits(static_cast<uint64_t>(n - 1), 6);
  WriteBits(x >> trailing, n);
  leading_ = static_cast<uint8_t>(leading);
  trailing_ = static_cast<uint8_t>(trailing);
}

void XorChunk::Append(int64_t t, double v) {
  const uint64_t bits = Bits(v);
  if (count_ == 0) {
    WriteVbits(base::ZigZagEncode(t));
    WriteBits(bits, 64);
    mint_ = t;
  } else if (count_ == 1) {
    delta_ = t - t_;
    WriteVbits(static_cast<uint64_t>(delta_));
    WriteValue(bits);
  } else {
    const int64_t delta = t - t_;
    const int64_t dod = delta - delta_;
    if (dod == 0 && bits == v_) {
      WriteBits(0, 1);
    } else {
      WriteBits(1, 1);
      if (dod == 0) {
        WriteBits(0, 1);
      } else if (FitsSigned(dod, 14)) {
        WriteBits(0b10, 2);
        WriteBits(static_cast<uint64_t>(dod), 14);
      } else if (FitsSigned(dod, 17)) {
        WriteBits(0b110, 3);
        WriteBits(static_cast<uint64_t>(dod), 17);
      } else if (FitsSigned(dod, 20)) {
        WriteBits(0b1110, 4);
        WriteBits(static_cast<uint64_t>(dod), 20);
      } else {
        WriteBits(0b1111, 4);
        WriteBits(static_cast<uint64_t>(dod), 64);
      }
      WriteValue(bits);
    }
    delta_ = delta;
  }
  t_ = t;
  v_ = bits;
  ++count_;
  data_[0] = static_cast<char>(count_ & 0xff);
  data_[1] = static_cast<char>(count_ >> 8);
}

XorIterator::XorIterator(std::string_view chunk) : data_(chunk) {
  if (chunk.size() < 2) {
    Fail("chunk shorter than its header");
    return;
  }
  total_ =
      static_cast<uint8_t>(chunk[0]) | (static_cast<uint8_t>(chunk[1]) << 8);
  bitpos_ = 16;
  bitlen_ = chunk.size() * 8;
}

double XorIterator::v() const {
  double d;
  std::memcpy(&d, &v_, sizeof d);
  return d;
}

bool XorIterator::Fail(const char* what) {
  if (status_.ok()) {
    status_ = absl::DataLossError(std::string("corrupt XOR chunk: ") + what);
  }
  read_ = total_;
  return false;
}

bool XorIterator::ReadBits(int n, uint64_t* out) {
  if (bitlen_ - bitpos_ < static_cast<size_t>(n)) return Fail("short stream");
  uint64_t v = 0;
  while (n > 0) {
    const size_t byte = bitpos_ >> 3;
    const int used = static_cast<int>(bitpos_ & 7);
    const int avail = 8 - used;
    const int take = n < avail ? n : avail;
    const uint8_t b = static_cast<uint8_t>(data_[byte]);
    const uint8_t part =
        static_cast<uint8_t>((b >> (avail - take)) & ((1u << take) - 1));
    v = (v << take) | part;
    bitpos_ += take;
    n -= take;
  }
  *out = v;
  return true;
}

bool XorIterator::ReadBit(bool* out) {
  if (bitpos_ >= bitlen_) return Fail("short stream");
  const uint8_t b = static_cast<uint8_t>(data_[bitpos_ >> 3]);
  *out = (b >> (7 - (bitpos_ & 7))) & 1;
  ++bitpos_;
  return true;
}

bool XorIterator::ReadVbits(uint64_t* out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    uint64_t group;
    if (!ReadBits(8, &group)) return false;
    if (shift == 63 && (group & 0x7e) != 0) return Fail("varint overflow");
    v |= (group & 0x7f) << shift;
    if ((group & 0x80) == 0) {
      *out = v;
      return true;
    }
  }
  return Fail("varint too long");
}

bool XorIterator::ReadValue() {
  bool b;
  if (!ReadBit(&b)) return false;
  if (!b) return true;  // same value
  if (!ReadBit(&b)) return false;
  uint64_t x;
  if (!b) {
    if (leading_ == 0xff) return Fail("window reuse before any window");
    const int n = 64 - leading_ - trailing_;
    if (!ReadBits(n, &x)) return false;
    v_ ^= x << trailing_;
    return true;
  }
  if (!ReadBit(&b)) return false;
  if (b) {
    // Decimal delta.
    uint64_t scale;
    if (!ReadBits(2, &scale)) return false;
    int width = 6;
    for (int w : {12, 20, 48}) {
      bool more;
      if (!ReadBit(&more)) return false;
      if (!more) break;
      width = w;
    }
    uint64_t zz;
    if (!ReadBits(width, &zz)) return false;
    int64_t mp;
    if (!ScaledPrev(v_, static_cast<int>(scale), &mp)) {
      return Fail("decimal delta on a value without a scaled form");
    }
    const double v =
        static_cast<double>(mp + base::ZigZagDecode(zz)) / kPow10[scale];
    std::memcpy(&v_, &v, sizeof v_);
    return true;
  }
  uint64_t leading, nm1;
  if (!ReadBits(5, &leading) || !ReadBits(6, &nm1)) return false;
  const int n = static_cast<int>(nm1) + 1;
  if (static_cast<int>(leading) + n > 64) return Fail("bad XOR window");
  const int trailing = 64 - static_cast<int>(leading) - n;
  if (!ReadBits(n, &x)) return false;
  leading_ = static_cast<uint8_t>(leading);
  trailing_ = static_cast<uint8_t>(trailing);
  v_ ^= x << trailing;
  return true;
}

bool XorIterator::Next() {
  if (read_ >= total_) return false;
  if (read_ == 0) {
    uint64_t zt;
    if (!ReadVbits(&zt) || !ReadBits(64, &v_)) return false;
    t_ = base::ZigZagDecode(zt);
  } else if (read_ == 1) {
    uint64_t d;
    if (!ReadVbits(&d)) return false;
    if (d == 0 || d > static_cast<uint64_t>(INT64_MAX)) {
      return Fail("non-increasing timestamp");
    }
    delta_ = static_cast<int64_t>(d);
    if (__builtin_add_overflow(t_, delta_, &t_)) return Fail("time overflow");
    if (!ReadValue()) return false;
  } else {
    bool changed;
    if (!ReadBit(&changed)) return false;
    int64_t dod = 0;
    if (changed) {
      int n = 0;
      for (int i = 0; i < 4; ++i) {
        bool bit;
        if (!ReadBit(&bit)) return false;
        if (!bit) break;
        ++n;
      }
      static constexpr int kWidth[] = {0, 14, 17, 20, 64};
      if (n > 0) {
        uint64_t raw;
        if (!ReadBits(kWidth[n], &raw)) return false;
        dod = SignExtend(raw, kWidth[n]);
      }
    }
    int64_t delta;
    if (__builtin_add_overflow(delta_, dod, &delta) || delta <= 0) {
      return Fail("non-increasing timestamp");
    }
    delta_ = delta;
    if (__builtin_add_overflow(t_, delta_, &t_)) return Fail("time overflow");
    if (changed && !ReadValue()) return false;
  }
  ++read_;
  return true;
}

absl::Status ValidateXorChunk(std::string_view chunk, int* samples,
                              int64_t* mint, int64_t* maxt) {
  XorIterator it(chunk);
  int n = 0;
  while (it.Next()) {
    if (n == 0) *mint = it.t();
    *maxt = it.t();
    ++n;
  }
  if (!it.status().ok()) return it.status();
  if (n == 0) return absl::DataLossError("corrupt XOR chunk: no samples");
  *samples = n;
  return absl::OkStatus();
}

}  // namespace pantau::metrics::tsdb
