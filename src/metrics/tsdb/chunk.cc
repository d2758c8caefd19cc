#include "metrics/tsdb/chunk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

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

// Packed chunks (tsdb-chunks.md, "Packed encoding").
constexpr int kPackedFlag = 0x8000;
constexpr double kScalePow10[16] = {1e0,  1e1,  1e2,  1e3, 1e4,  1e5,
                                    1e6,  1e7,  1e8,  1e9, 1e10, 1e11,
                                    1e12, 1e13, 1e14, 1e15};
constexpr uint64_t kMaxSymbols = uint64_t{1} << 62;
constexpr double kMaxExactInt = 9007199254740992.0;  // 2^53

// Truncated binary code for `symbols` (>= 2) symbols: those below *u take
// *k bits, the rest *k + 1.
void TbParams(uint64_t symbols, int* k, uint64_t* u) {
  *k = 63 - std::countl_zero(symbols);
  *u = (uint64_t{1} << (*k + 1)) - symbols;
}

int VbitsCost(uint64_t v) {
  int groups = 1;
  while ((v >>= 7) != 0) ++groups;
  return 8 * groups;
}
int VzzCost(uint64_t v) {
  return VbitsCost(base::ZigZagEncode(static_cast<int64_t>(v)));
}
int BitLen(uint64_t v) { return v == 0 ? 1 : 64 - std::countl_zero(v); }

// Whether `bits` is exactly k / 10^scale for an integer |k| <= 2^53.
bool ScaledInt(uint64_t bits, int scale, int64_t* k) {
  const double v = FromBits(bits);
  if (!std::isfinite(v)) return false;
  const double s = v * kScalePow10[scale];
  if (!(std::fabs(s) <= kMaxExactInt)) return false;
  *k = std::llround(s);
  return Bits(static_cast<double>(*k) / kScalePow10[scale]) == bits;
}

class BitWriter {
 public:
  explicit BitWriter(std::string* out) : out_(out) {}
  void Write(uint64_t v, int n) {
    if (n == 0) return;
    if (n < 64) v &= (uint64_t{1} << n) - 1;
    if (free_ > 0) {
      const int take = n < free_ ? n : free_;
      out_->back() = static_cast<char>(
          static_cast<uint8_t>(out_->back()) |
          static_cast<uint8_t>((v >> (n - take)) << (free_ - take)));
      free_ -= take;
      n -= take;
    }
    while (n >= 8) {
      n -= 8;
      out_->push_back(static_cast<char>(v >> n));
    }
    if (n > 0) {
      out_->push_back(static_cast<char>(v << (8 - n)));
      free_ = 8 - n;
    }
  }
  void Vbits(uint64_t v) {
    do {
      const uint64_t group = v & 0x7f;
      v >>= 7;
      Write(((v != 0 ? 1u : 0u) << 7) | group, 8);
    } while (v != 0);
  }
  void Vzz(uint64_t v) { Vbits(base::ZigZagEncode(static_cast<int64_t>(v))); }
  int64_t bit_size() const {
    return static_cast<int64_t>(out_->size()) * 8 - free_;
  }

 private:
  std::string* out_;
  int free_ = 0;
};

// The coding chosen for one integer stream of a packed chunk.
struct Coding {
  int order = 0;
  bool has_mode = false;
  bool has_esc = false;
  uint64_t mode = 0;
  uint64_t base = 0;
  uint64_t step = 1;
  uint64_t nsym = 1;
  int64_t cost = INT64_MAX;  // bits
};

uint64_t Pred(const std::vector<uint64_t>& y, size_t j, int order) {
  const size_t e = std::min<size_t>(static_cast<size_t>(order), j);
  if (e == 0) return 0;
  if (e == 1) return y[j - 1];
  return 2 * y[j - 1] - y[j - 2];
}

// Picks the cheapest coding of stream `y` (see the format doc for the
// choices). `special_at[i]` is the number of elements before the i-th
// special sample of the value stream.
Coding ChooseCoding(const std::vector<uint64_t>& y,
                    const std::vector<int>& special_at, int min_order) {
  Coding best;
  const size_t m = y.size();
  std::vector<int64_t> coded, list;
  std::vector<uint64_t> diffs;
  for (int order = min_order; order <= 2; ++order) {
    const size_t n_raw = std::min<size_t>(static_cast<size_t>(order), m);
    int64_t raw_bits = 0;
    coded.clear();
    for (size_t j = 0; j < m; ++j) {
      const uint64_t r = y[j] - Pred(y, j, order);
      if (j < n_raw) {
        raw_bits += VzzCost(r);
      } else {
        coded.push_back(static_cast<int64_t>(r));
      }
    }
    int raw_specials = 0;
    for (int at : special_at) raw_specials += at < order ? 1 : 0;
    const int coded_specials =
        static_cast<int>(special_at.size()) - raw_specials;
    std::sort(coded.begin(), coded.end());
    // The most common residual: the longest run of the sorted list.
    size_t run_start = 0, run_len = 0;
    for (size_t i = 0; i < coded.size();) {
      size_t e = i;
      while (e < coded.size() && coded[e] == coded[i]) ++e;
      if (e - i > run_len) {
        run_start = i;
        run_len = e - i;
      }
      i = e;
    }
    for (int with_mode = 0; with_mode < 2; ++with_mode) {
      if (with_mode == 1 && run_len == 0) break;
      list.clear();
      if (with_mode == 1) {
        list.insert(list.end(), coded.begin(), coded.begin() + run_start);
        list.insert(list.end(), coded.begin() + run_start + run_len,
                    coded.end());
      } else {
        list = coded;
      }
      const size_t len = list.size();
      diffs.clear();
      for (size_t i = 0; i + 1 < len; ++i) {
        diffs.push_back(static_cast<uint64_t>(list[i + 1]) -
                        static_cast<uint64_t>(list[i]));
      }
      const size_t nd = diffs.size();
      // gcd of the middle differences, shared by every trim below.
      uint64_t mid = 0;
      const bool use_mid = nd >= 12;
      if (use_mid) {
        for (size_t i = 4; i < nd - 4 && mid != 1; ++i) {
          mid = std::gcd(mid, diffs[i]);
        }
      }
      const uint64_t mode =
          with_mode == 1 ? static_cast<uint64_t>(coded[run_start]) : 0;
      const int64_t fixed_bits =
          4 + (with_mode == 1 ? VzzCost(mode) : 0) + raw_bits +
          (with_mode == 1 ? static_cast<int64_t>(m - n_raw) + coded_specials
                          : 0);
      const size_t max_trim = std::min<size_t>(3, len);
      for (size_t lo = 0; lo <= max_trim; ++lo) {
        for (size_t hi = 0; lo + hi <= len && hi <= 3; ++hi) {
          const bool esc = lo + hi > 0 || !special_at.empty();
          uint64_t base = 0, step = 1, nsym = 1;
          const size_t core_end = len - hi;
          if (lo < core_end) {
            base = static_cast<uint64_t>(list[lo]);
            uint64_t g = 0;
            const size_t a = lo, b = core_end - 1;  // diffs [a, b)
            if (use_mid) {
              g = mid;
              for (size_t i = a; i < 4; ++i) g = std::gcd(g, diffs[i]);
              for (size_t i = nd - 4; i < b; ++i) g = std::gcd(g, diffs[i]);
            } else {
              for (size_t i = a; i < b; ++i) g = std::gcd(g, diffs[i]);
            }
            step = g == 0 ? 1 : g;
            const uint64_t range =
                static_cast<uint64_t>(list[core_end - 1]) - base;
            nsym = range / step + 1;
          }
          if (nsym > kMaxSymbols - (esc ? 1 : 0)) continue;
          const uint64_t symbols = nsym + (esc ? 1 : 0);
          int k = 0;
          uint64_t u = 1;
          const bool none = symbols == 1;
          if (!none) TbParams(symbols, &k, &u);
          auto tb_cost = [&](uint64_t s) {
            return none ? 0 : (s < u ? k : k + 1);
          };
          int64_t cost = fixed_bits + VzzCost(base) + VbitsCost(step) +
                         VbitsCost(nsym) +
                         (esc ? static_cast<int64_t>(n_raw) : 0);
          if (lo < core_end) {
            // Symbols >= u cost one bit more; the list is sorted.
            const unsigned __int128 limit =
                static_cast<unsigned __int128>(u) * step;
            auto first_long = std::partition_point(
                list.begin() + lo, list.begin() + core_end, [&](int64_t c) {
                  return static_cast<uint64_t>(c) - base < limit;
                });
            cost += static_cast<int64_t>(core_end - lo) * k +
                    (none ? 0 : list.begin() + core_end - first_long);
          }
          for (size_t i = 0; i < lo; ++i) {
            cost += tb_cost(nsym) + 7 + BitLen(base::ZigZagEncode(list[i]));
          }
          for (size_t i = core_end; i < len; ++i) {
            cost += tb_cost(nsym) + 7 + BitLen(base::ZigZagEncode(list[i]));
          }
          cost += raw_specials * 65 + coded_specials * (tb_cost(nsym) + 65);
          if (cost < best.cost) {
            best.order = order;
            best.has_mode = with_mode == 1;
            best.mode = mode;
            best.has_esc = esc;
            best.base = base;
            best.step = step;
            best.nsym = nsym;
            best.cost = cost;
          }
        }
      }
    }
  }
  return best;
}

void WriteParams(BitWriter& w, const Coding& c) {
  w.Write(static_cast<uint64_t>(c.order), 2);
  w.Write(c.has_mode ? 1 : 0, 1);
  if (c.has_mode) w.Vzz(c.mode);
  w.Write(c.has_esc ? 1 : 0, 1);
  w.Vzz(c.base);
  w.Vbits(c.step);
  w.Vbits(c.nsym);
}

void WriteSymbol(BitWriter& w, const Coding& c, uint64_t s) {
  const uint64_t symbols = c.nsym + (c.has_esc ? 1 : 0);
  if (symbols == 1) return;
  int k;
  uint64_t u;
  TbParams(symbols, &k, &u);
  if (s < u) {
    w.Write(s, k);
  } else {
    w.Write(s + u, k + 1);
  }
}

// Writes element j (residual r) of a stream; false if the coding cannot
// express it (a bug in ChooseCoding; the caller then keeps XOR).
bool WriteElem(BitWriter& w, const Coding& c, size_t j, uint64_t r) {
  if (j < static_cast<size_t>(c.order)) {
    if (c.has_esc) w.Write(0, 1);
    w.Vzz(r);
    return true;
  }
  if (c.has_mode) {
    if (r == c.mode) {
      w.Write(0, 1);
      return true;
    }
    w.Write(1, 1);
  }
  const uint64_t d = r - c.base;
  if (d % c.step == 0 && d / c.step < c.nsym) {
    WriteSymbol(w, c, d / c.step);
    return true;
  }
  if (!c.has_esc) return false;
  WriteSymbol(w, c, c.nsym);
  w.Write(0, 1);
  const uint64_t zz = base::ZigZagEncode(static_cast<int64_t>(r));
  const int len = BitLen(zz);
  w.Write(static_cast<uint64_t>(len - 1), 6);
  w.Write(zz, len);
  return true;
}

void WriteSpecial(BitWriter& w, const Coding& c, size_t j, uint64_t bits) {
  if (j < static_cast<size_t>(c.order)) {
    w.Write(1, 1);
  } else {
    if (c.has_mode) w.Write(1, 1);
    WriteSymbol(w, c, c.nsym);
    w.Write(1, 1);
  }
  w.Write(bits, 64);
}

// The 8 bytes at p as a big-endian word (bits are MSB first in the
// stream).
inline uint64_t LoadBe64(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, sizeof x);
  if constexpr (std::endian::native == std::endian::little) {
    x = __builtin_bswap64(x);
  }
  return x;
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

ChunkIterator::ChunkIterator(std::string_view chunk) : data_(chunk) {
  if (chunk.size() < 2) {
    Fail("chunk shorter than its header");
    return;
  }
  total_ =
      static_cast<uint8_t>(chunk[0]) | (static_cast<uint8_t>(chunk[1]) << 8);
  bitpos_ = 16;
  bitlen_ = chunk.size() * 8;
  tail_start_ = chunk.size() >= 8 ? chunk.size() - 8 : 0;
  std::memcpy(tail_, chunk.data() + tail_start_, chunk.size() - tail_start_);
  if ((total_ & kPackedFlag) != 0) {
    packed_ = true;
    total_ &= ~kPackedFlag;
    uint64_t scale;
    if (!ReadParams(&ts_) || !ReadBits(4, &scale) || !ReadParams(&vs_)) {
      return;
    }
    scale_ = static_cast<uint8_t>(scale);
  }
}

double ChunkIterator::v() const {
  double d;
  std::memcpy(&d, &v_, sizeof d);
  return d;
}

bool ChunkIterator::Fail(const char* what) {
  if (status_.ok()) {
    status_ = absl::DataLossError(std::string(packed_ ? "corrupt packed chunk: "
                                                      : "corrupt XOR chunk: ") +
                                  what);
  }
  read_ = total_;
  return false;
}

// Every read of up to 57 bits takes one unaligned big-endian word load and
// two shifts; longer fields (64-bit values) and reads past the end go byte
// by byte.
[[gnu::always_inline]] inline uint64_t ChunkIterator::WindowAt(
    size_t bitpos) const {
  const size_t byte = bitpos >> 3;
  const char* p =
      byte + 8 <= data_.size()
          ? data_.data() + byte
          : reinterpret_cast<const char*>(tail_) + (byte - tail_start_);
  return LoadBe64(p) << (bitpos & 7);
}

[[gnu::always_inline]] inline uint64_t ChunkIterator::Window() const {
  return WindowAt(bitpos_);
}

[[gnu::always_inline]] inline bool ChunkIterator::ReadBits(int n,
                                                           uint64_t* out) {
  if (n <= 57 && bitlen_ - bitpos_ >= static_cast<size_t>(n)) [[likely]] {
    // The split shift keeps n = 0 defined.
    *out = (Window() >> 1) >> (63 - n);
    bitpos_ += static_cast<size_t>(n);
    return true;
  }
  return ReadBitsSlow(n, out);
}

[[gnu::noinline]] bool ChunkIterator::ReadBitsSlow(int n, uint64_t* out) {
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

bool ChunkIterator::ReadBit(bool* out) {
  if (bitpos_ >= bitlen_) return Fail("short stream");
  const uint8_t b = static_cast<uint8_t>(data_[bitpos_ >> 3]);
  *out = (b >> (7 - (bitpos_ & 7))) & 1;
  ++bitpos_;
  return true;
}

bool ChunkIterator::ReadVbits(uint64_t* out) {
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

bool ChunkIterator::ReadValue() {
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

bool ChunkIterator::NextSlow() {
  if (read_ >= total_) return false;
  if (packed_) {
    // The frame is used up (Next hands out the rest inline).
    frame_pos_ = 0;
    frame_len_ = 0;
    // Frames need both streams past their raw elements and symbols of at
    // most 55 bits (always, for real data).
    if (ts_.j >= ts_.order && vs_.j >= vs_.order && ts_.tb_k <= 55 &&
        vs_.tb_k <= 55) {
      frame_len_ = static_cast<uint8_t>(
          ts_.tb_none && !ts_.has_mode && ts_.nsym == 1 ? FillFrame<true>()
                                                        : FillFrame<false>());
    }
    if (frame_len_ == 0) return NextPacked();
    t_ = frame_t_[frame_pos_];
    v_ = frame_v_[frame_pos_];
    ++frame_pos_;
    ++read_;
    return true;
  }
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
  if (n == 0) return absl::DataLossError("corrupt chunk: no samples");
  *samples = n;
  return absl::OkStatus();
}

bool ChunkIterator::ReadParams(Stream* s) {
  uint64_t order, flag;
  if (!ReadBits(2, &order)) return false;
  if (order > 2) return Fail("bad predictor order");
  s->order = static_cast<uint8_t>(order);
  if (!ReadBits(1, &flag)) return false;
  s->has_mode = flag != 0;
  if (s->has_mode) {
    uint64_t zz;
    if (!ReadVbits(&zz)) return false;
    s->mode = static_cast<uint64_t>(base::ZigZagDecode(zz));
  }
  if (!ReadBits(1, &flag)) return false;
  s->has_esc = flag != 0;
  uint64_t zz;
  if (!ReadVbits(&zz) || !ReadVbits(&s->step) || !ReadVbits(&s->nsym)) {
    return false;
  }
  s->base = static_cast<uint64_t>(base::ZigZagDecode(zz));
  const uint64_t esc = s->has_esc ? 1 : 0;
  if (s->nsym > kMaxSymbols - esc || s->nsym + esc == 0) {
    return Fail("bad symbol count");
  }
  const uint64_t symbols = s->nsym + esc;
  s->tb_none = symbols == 1;
  if (!s->tb_none) {
    int k;
    TbParams(symbols, &k, &s->tb_u);
    s->tb_k = static_cast<uint8_t>(k);
  }
  return true;
}

[[gnu::noinline]] bool ChunkIterator::ReadElemSlow(Stream* s,
                                                   bool allow_special,
                                                   bool* special,
                                                   uint64_t* out) {
  *special = false;
  uint64_t r;
  uint64_t bit;
  if (s->j < s->order) {
    if (s->has_esc) {
      if (!ReadBits(1, &bit)) return false;
      if (bit != 0) {
        if (!allow_special) return Fail("special value in the time stream");
        *special = true;
        return ReadBits(64, out);
      }
    }
    uint64_t zz;
    if (!ReadVbits(&zz)) return false;
    r = static_cast<uint64_t>(base::ZigZagDecode(zz));
  } else {
    bool have = false;
    if (s->has_mode) {
      if (!ReadBits(1, &bit)) return false;
      if (bit == 0) {
        r = s->mode;
        have = true;
      }
    }
    if (!have) {
      uint64_t sym = 0;
      if (!s->tb_none) {
        if (!ReadBits(s->tb_k, &sym)) return false;
        if (sym >= s->tb_u) {
          if (!ReadBits(1, &bit)) return false;
          sym = ((sym << 1) | bit) - s->tb_u;
        }
      }
      if (sym < s->nsym) {
        r = s->base + sym * s->step;
      } else {
        if (!ReadBits(1, &bit)) return false;
        if (bit != 0) {
          if (!allow_special) return Fail("special value in the time stream");
          *special = true;
          return ReadBits(64, out);
        }
        uint64_t lm1, zz;
        if (!ReadBits(6, &lm1) || !ReadBits(static_cast<int>(lm1) + 1, &zz)) {
          return false;
        }
        r = static_cast<uint64_t>(base::ZigZagDecode(zz));
      }
    }
  }
  const int e = s->j < s->order ? s->j : s->order;
  const uint64_t pred = e == 0 ? 0 : e == 1 ? s->y1 : 2 * s->y1 - s->y2;
  const uint64_t y = pred + r;
  s->y2 = s->y1;
  s->y1 = y;
  ++s->j;
  *out = y;
  return true;
}

// Decodes a coded element (j >= order, tb_k <= 55) from the window w at
// the stream position: its residual and the bits it takes (at most 57).
// False, consuming nothing, on the escape symbol (an outlier or special).
[[gnu::always_inline]] inline bool ChunkIterator::DecodeCoded(const Stream& s,
                                                              uint64_t w,
                                                              int* used,
                                                              uint64_t* r) {
  if (s.has_mode && (w >> 63) == 0) {
    *r = s.mode;
    *used = 1;
    return true;
  }
  int n = s.has_mode ? 1 : 0;
  uint64_t sym = 0;
  if (!s.tb_none) {
    sym = ((w << n) >> 1) >> (63 - s.tb_k);
    n += s.tb_k;
    if (sym >= s.tb_u) {
      sym = ((sym << 1) | ((w << n) >> 63)) - s.tb_u;
      ++n;
    }
  }
  if (sym >= s.nsym) [[unlikely]] {
    return false;
  }
  *r = s.base + sym * s.step;
  *used = n;
  return true;
}

// Adds the prediction to residual r of a coded element (j >= order, so
// the predictor uses all `order` previous elements) and advances.
[[gnu::always_inline]] inline uint64_t ChunkIterator::Advance(Stream* s,
                                                              uint64_t r) {
  const uint64_t pred = s->order == 0   ? 0
                        : s->order == 1 ? s->y1
                                        : 2 * s->y1 - s->y2;
  const uint64_t y = pred + r;
  s->y2 = s->y1;
  s->y1 = y;
  ++s->j;
  return y;
}

// The common element is decoded from one 64-bit window; anything else
// (raw elements, the escape, a short stream) is left to ReadElemSlow,
// which re-reads the element from the same position.
[[gnu::always_inline]] inline bool ChunkIterator::ReadElem(Stream* s,
                                                           bool allow_special,
                                                           bool* special,
                                                           uint64_t* out) {
  uint64_t r;
  int used;
  if (s->j < s->order || s->tb_k > 55 ||
      !DecodeCoded(*s, Window(), &used, &r) ||
      bitlen_ - bitpos_ < static_cast<size_t>(used)) {
    return ReadElemSlow(s, allow_special, special, out);
  }
  bitpos_ += static_cast<size_t>(used);
  *special = false;
  *out = Advance(s, r);
  return true;
}

// Decodes up to kFrame samples into frame_t_/frame_v_ while they take the
// common path (coded elements that are not escapes, increasing time), with
// the stream state in locals; stops, consuming nothing of it, before the
// first sample that does not, which NextPacked then reads (or fails on)
// as it would have without frames. kTimeFree: every time element is
// `base` and takes no bits (one symbol, no mode, no escape: regular
// intervals), the usual case.
template <bool kTimeFree>
int ChunkIterator::FillFrame() {
  Stream ts = ts_;
  Stream vs = vs_;
  size_t pos = bitpos_;
  // Before the first sample any time is allowed; INT64_MIN itself then
  // merely ends the frame and NextPacked reads it.
  int64_t prev = read_ > 0 ? t_ : INT64_MIN;
  const int want = std::min(kFrame, total_ - read_);
  const bool scaled = scale_ != 0;
  const double div = kScalePow10[scale_];
  int n = 0;
  for (; n < want; ++n) {
    int used_t = 0;
    uint64_t rt;
    if constexpr (kTimeFree) {
      rt = ts.base;
    } else {
      if (!DecodeCoded(ts, WindowAt(pos), &used_t, &rt)) break;
    }
    const size_t pos_v = pos + static_cast<size_t>(used_t);
    uint64_t rv;
    int used_v;
    if (pos_v > bitlen_ || !DecodeCoded(vs, WindowAt(pos_v), &used_v, &rv) ||
        bitlen_ - pos_v < static_cast<size_t>(used_v)) {
      break;
    }
    const uint64_t pred_t = ts.order == 0   ? 0
                            : ts.order == 1 ? ts.y1
                                            : 2 * ts.y1 - ts.y2;
    const int64_t t = static_cast<int64_t>(pred_t + rt);
    if (t <= prev) break;
    pos = pos_v + static_cast<size_t>(used_v);
    Advance(&ts, rt);
    const int64_t k = static_cast<int64_t>(Advance(&vs, rv));
    const double x = static_cast<double>(k);
    frame_t_[n] = t;
    // Dividing by 10^0 = 1 is exact, so skip it.
    frame_v_[n] = Bits(scaled ? x / div : x);
    prev = t;
  }
  // Only the predictor state moved.
  bitpos_ = pos;
  ts_.y1 = ts.y1;
  ts_.y2 = ts.y2;
  ts_.j = ts.j;
  vs_.y1 = vs.y1;
  vs_.y2 = vs.y2;
  vs_.j = vs.j;
  return n;
}

bool ChunkIterator::NextPacked() {
  bool special;
  uint64_t y;
  if (!ReadElem(&ts_, false, &special, &y)) return false;
  const int64_t t = static_cast<int64_t>(y);
  if (read_ > 0 && t <= t_) return Fail("non-increasing timestamp");
  t_ = t;
  if (!ReadElem(&vs_, true, &special, &y)) return false;
  if (special) {
    v_ = y;
  } else {
    v_ = Bits(static_cast<double>(static_cast<int64_t>(y)) /
              kScalePow10[scale_]);
  }
  ++read_;
  return true;
}

std::string EncodePacked(std::span<const int64_t> t,
                         std::span<const uint64_t> v, PackedBits* bits) {
  const size_t n = t.size();
  if (n == 0 || n != v.size() || n >= static_cast<size_t>(kPackedFlag)) {
    return {};
  }
  // The smallest scale at which every value that has one round-trips;
  // values with none are specials.
  int scale = 0;
  int64_t k;
  for (size_t i = 0; i < n; ++i) {
    if (ScaledInt(v[i], scale, &k)) continue;
    for (int s = scale + 1; s < 16; ++s) {
      if (ScaledInt(v[i], s, &k)) {
        scale = s;
        break;
      }
    }
  }
  std::vector<uint64_t> ty(n), vy;
  std::vector<int> special_at;
  std::vector<bool> is_special(n);
  vy.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    ty[i] = static_cast<uint64_t>(t[i]);
    if (ScaledInt(v[i], scale, &k)) {
      vy.push_back(static_cast<uint64_t>(k));
    } else {
      is_special[i] = true;
      special_at.push_back(static_cast<int>(vy.size()));
    }
  }
  const Coding tc = ChooseCoding(ty, {}, 1);
  const Coding vc = ChooseCoding(vy, special_at, 0);
  if (tc.cost == INT64_MAX || vc.cost == INT64_MAX) return {};
  std::string out;
  out.reserve(static_cast<size_t>((tc.cost + vc.cost) / 8 + 24));
  const uint16_t header = static_cast<uint16_t>(kPackedFlag | n);
  out.push_back(static_cast<char>(header & 0xff));
  out.push_back(static_cast<char>(header >> 8));
  BitWriter w(&out);
  WriteParams(w, tc);
  w.Write(static_cast<uint64_t>(scale), 4);
  WriteParams(w, vc);
  PackedBits acc;
  acc.header = w.bit_size();
  size_t jv = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t at = w.bit_size();
    if (!WriteElem(w, tc, i, ty[i] - Pred(ty, i, tc.order))) return {};
    (i < static_cast<size_t>(tc.order) ? acc.header : acc.time) +=
        w.bit_size() - at;
    at = w.bit_size();
    if (is_special[i]) {
      WriteSpecial(w, vc, jv, v[i]);
      acc.specials += w.bit_size() - at;
    } else {
      if (!WriteElem(w, vc, jv, vy[jv] - Pred(vy, jv, vc.order))) return {};
      (jv < static_cast<size_t>(vc.order) ? acc.header : acc.values) +=
          w.bit_size() - at;
      ++jv;
    }
  }
  if (bits != nullptr) *bits = acc;
  return out;
}

EncodedChunk CompactChunk(std::string_view chunk) {
  EncodedChunk keep{kEncodingXor, std::string(chunk)};
  if (chunk.size() >= 2 && (static_cast<uint8_t>(chunk[1]) & 0x80) != 0) {
    keep.encoding = kEncodingPacked;
    return keep;
  }
  std::vector<int64_t> t;
  std::vector<uint64_t> v;
  t.reserve(kMaxSamplesPerChunk);
  v.reserve(kMaxSamplesPerChunk);
  ChunkIterator it(chunk);
  while (it.Next()) {
    t.push_back(it.t());
    v.push_back(it.v_bits());
  }
  if (!it.status().ok() || t.empty()) return keep;
  std::string packed = EncodePacked(t, v);
  if (packed.empty() || packed.size() >= chunk.size()) return keep;
  // The packed writer is newer than XOR; a decode that does not give back
  // exactly the same samples keeps the XOR bytes rather than lose data.
  ChunkIterator check(packed);
  size_t i = 0;
  while (check.Next()) {
    if (i >= t.size() || check.t() != t[i] || check.v_bits() != v[i]) {
      return keep;
    }
    ++i;
  }
  if (!check.status().ok() || i != t.size()) return keep;
  return {kEncodingPacked, std::move(packed)};
}

}  // namespace pantau::metrics::tsdb
