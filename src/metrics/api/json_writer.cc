#include "metrics/api/json_writer.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace pantau::metrics::api {
namespace {

constexpr char kHex[] = "0123456789abcdef";

// Length of a valid UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = s.size() - i;
  auto cont = [&](size_t k) { return (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return n >= 2 && cont(i + 1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(i + 1) > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (c == 0xF4 && b(i + 1) > 0x8F) return 0;
    return 4;
  }
  return 0;
}

bool NeedsEscape(unsigned char c) {
  return c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' ||
         c == '&' || c >= 0x80;
}

// Shortest round-trip digits of a finite double in the given format.
void AppendChars(std::string* out, double v, std::chars_format fmt) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, fmt);
  out->append(buf, res.ptr);
}

// strconv.FormatFloat(v, 'f', -1, 64) for any finite v, from
// std::to_chars's shortest scientific digits laid out as Go's fmtF does:
// the digits, then zeros up to the decimal point. (std::to_chars's own
// fixed format prints integers above 2^53 exactly instead, e.g. 2^60 as
// 1152921504606846976 where Go writes 1152921504606847000.)
void AppendGoFixedSlow(std::string* out, double v) {
  char buf[32];
  auto res =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  size_t e = sci.find('e');
  int exp = 0;
  std::from_chars(sci.data() + e + (sci[e + 1] == '+' ? 2 : 1),
                  sci.data() + sci.size(), exp);
  std::string_view mant = sci.substr(0, e);
  if (!mant.empty() && mant[0] == '-') {
    out->push_back('-');
    mant.remove_prefix(1);
  }
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits.push_back(c);
  }
  // The value is 0.<digits> * 10^dp.
  int dp = exp + 1;
  int nd = static_cast<int>(digits.size());
  if (dp > 0) {
    int m = std::min(nd, dp);
    out->append(digits, 0, m);
    out->append(dp - m, '0');
  } else {
    out->push_back('0');
  }
  if (nd > dp) {
    out->push_back('.');
    if (dp < 0) out->append(-dp, '0');
    out->append(digits, std::max(dp, 0), std::string::npos);
  }
}

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536"
    "37383940414243444546474849505152535455565758596061626364656667686970717273"
    "7475767778798081828384858687888990919293949596979899";

constexpr uint64_t kPow10[20] = {1ull,
                                 10ull,
                                 100ull,
                                 1000ull,
                                 10000ull,
                                 100000ull,
                                 1000000ull,
                                 10000000ull,
                                 100000000ull,
                                 1000000000ull,
                                 10000000000ull,
                                 100000000000ull,
                                 1000000000000ull,
                                 10000000000000ull,
                                 100000000000000ull,
                                 1000000000000000ull,
                                 10000000000000000ull,
                                 100000000000000000ull,
                                 1000000000000000000ull,
                                 10000000000000000000ull};

// Number of decimal digits of v (1 for 0).
int DigitCount(uint64_t v) {
  // floor(log10(2^bits)) is bits * 1233 >> 12 for bits <= 64.
  int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;
  return t + (v >= kPow10[t] ? 1 : 0) + (t == 0 && v < 1 ? 1 : 0);
}

// Two and four digits of v (< 100, < 10000) at p.
inline void Write2(char* p, uint32_t v) {
  std::memcpy(p, kDigitPairs + 2 * v, 2);
}
inline void Write4(char* p, uint32_t v) {
  Write2(p, v / 100);
  Write2(p + 2, v % 100);
}

// Writes exactly `n` digits of v (v < 10^n), zero-padded, ending at p + n.
// Eight digits at a time in 32-bit arithmetic, which is what makes it
// cheaper than std::to_chars's two digits per 64-bit division.
void WriteDigits(char* p, uint64_t v, int n) {
  while (n >= 8) {
    uint32_t low = static_cast<uint32_t>(v % 100000000);
    v /= 100000000;
    n -= 8;
    Write4(p + n, low / 10000);
    Write4(p + n + 4, low % 10000);
  }
  uint32_t w = static_cast<uint32_t>(v);
  while (n >= 2) {
    n -= 2;
    Write2(p + n, w % 100);
    w /= 100;
  }
  if (n == 1) *p = static_cast<char>('0' + w);
}

char* WriteUint(char* p, uint64_t v) {
  int n = DigitCount(v);
  WriteDigits(p, v, n);
  return p + n;
}

// strconv.FormatFloat(v, 'f', -1, 64) for the values a query result is
// mostly made of: 0, integers below 2^53, and finite |v| in [1e-4, 1e17).
// Writes at most 40 bytes; returns nullptr for other values (the caller
// then uses std::to_chars, which is exact everywhere but several times
// slower: it was most of the cost of a range query's JSON).
//
// The shortest decimal that reads back as v is found exactly with 128-bit
// integers: v = m * 2^e2 and its rounding interval (half an ulp each
// side, a quarter below at a power of two; the ends included when m is
// even, as round-half-even parsing maps them to v) are scaled by 10^k so
// that v * 10^k has 18-19 digits, which is finer than the 17 significant
// digits that always suffice. Trailing digits are dropped while a number
// with fewer digits still lies in the interval; of the candidates left, the
// one nearest v is taken (ties to even), which is what Go's and
// std::to_chars's shortest formatting produce.
char* WriteGoFloatFFast(char* p, double v) {
  uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const int biased = static_cast<int>((bits >> 52) & 0x7FF);
  const uint64_t frac = bits & ((uint64_t{1} << 52) - 1);
  if (biased == 0x7FF) return nullptr;  // Inf, NaN
  if (biased == 0) {
    if (frac != 0) return nullptr;  // subnormal
    if (bits >> 63) *p++ = '-';
    *p++ = '0';
    return p;
  }
  const uint64_t m = frac | (uint64_t{1} << 52);
  const int e2 = biased - 1075;  // v = m * 2^e2
  // Integers below 2^53 print as themselves: their interval is at most
  // +-0.5 wide, so no shorter number lies in it.
  if (e2 <= 0 && e2 > -53 && (m & ((uint64_t{1} << -e2) - 1)) == 0) {
    if (bits >> 63) *p++ = '-';
    return WriteUint(p, m >> -e2);
  }
  // floor(log10(2^(e2 + 52))) <= log10(v) < that + 0.302.
  const int e10 = ((e2 + 52) * 78913) >> 18;
  const int k = 17 - e10;  // v * 10^k in [1e17, 2e18)
  if (k < 0 || k > 21) return nullptr;
  using u128 = unsigned __int128;
  const u128 pow10k =
      k <= 19 ? u128{kPow10[k]} : u128{kPow10[19]} * kPow10[k - 19];
  // 4v, its interval's ends, times 10^k, in units of 2^(e2 - 2).
  const u128 c = (u128{m} * 4) * pow10k;
  const u128 lo = c - (frac == 0 && biased > 1 ? 1 : 2) * pow10k;
  const u128 hi = c + 2 * pow10k;
  const int shift = 2 - e2;  // divide by 2^shift (or multiply, if < 0)
  const bool even = (m & 1) == 0;
  uint64_t xlo, xhi, cfloor;
  bool below_half, half;  // the fraction of c / 2^shift vs 1/2
  bool cexact;
  if (shift <= 0) {
    xlo = static_cast<uint64_t>(lo << -shift);
    xhi = static_cast<uint64_t>(hi << -shift);
    cfloor = static_cast<uint64_t>(c << -shift);
    if (!even) {
      ++xlo;
      --xhi;
    }
    below_half = true;
    half = false;
    cexact = true;
  } else {
    const u128 mask = (u128{1} << shift) - 1;
    xlo = static_cast<uint64_t>(lo >> shift);
    if (!even || (lo & mask) != 0) ++xlo;
    xhi = static_cast<uint64_t>(hi >> shift);
    if (!even && (hi & mask) == 0) --xhi;
    cfloor = static_cast<uint64_t>(c >> shift);
    const u128 rem = c & mask;
    const u128 halfway = u128{1} << (shift - 1);
    below_half = rem < halfway;
    half = rem == halfway;
    cexact = rem == 0;
  }
  // Drop trailing digits while the interval still holds a shorter number,
  // in steps of 16, 8, 4, 2 and 1 digits (whether a multiple of 10^j lies
  // in the interval only gets less likely as j grows, so the steps find the
  // largest j; constant divisors make them multiplications). Alongside,
  // cfloor's dropped digits (rem_j, below 10^j) decide the rounding.
  uint64_t d = cfloor;
  uint64_t rem_j = 0;
  uint64_t pow_j = 1;
  auto step = [&](auto pow_const) {
    constexpr uint64_t p = decltype(pow_const)::value;
    uint64_t a = (xlo + p - 1) / p;  // xlo < 2^62: no overflow
    uint64_t b = xhi / p;
    if (a > b) return;
    xlo = a;
    xhi = b;
    rem_j += (d % p) * pow_j;
    d /= p;
    pow_j *= p;
  };
  step(std::integral_constant<uint64_t, 10000000000000000>{});
  step(std::integral_constant<uint64_t, 100000000>{});
  step(std::integral_constant<uint64_t, 10000>{});
  step(std::integral_constant<uint64_t, 100>{});
  step(std::integral_constant<uint64_t, 10>{});
  // The candidate nearest v: v * 10^(k - j) rounded half to even.
  int j = 0;
  bool up;
  if (pow_j == 1) {
    up = !below_half && (!half || (d & 1) != 0);
  } else {
    j = DigitCount(pow_j) - 1;
    const uint64_t half_j = pow_j / 2;
    if (rem_j > half_j) {
      up = true;
    } else if (rem_j == half_j) {
      up = !cexact || (d & 1) != 0;
    } else {
      up = false;
    }
  }
  if (up) ++d;
  if (d < xlo) d = xlo;
  if (d > xhi) d = xhi;
  if (bits >> 63) *p++ = '-';
  const int decimals = k - j;
  if (decimals <= 0) {
    p = WriteUint(p, d);
    std::memset(p, '0', -decimals);
    return p - decimals;
  }
  const int n = DigitCount(d);
  if (n <= decimals) {  // 0.000ddd
    *p++ = '0';
    *p++ = '.';
    std::memset(p, '0', decimals - n);
    p += decimals - n;
    WriteDigits(p, d, n);
    return p + n;
  }
  // ddd.ddd; d has no trailing zero (it would have been dropped). Each
  // part is written in place: writing all digits and then moving the
  // fraction made the CPU read back bytes it had just stored, which cost
  // more than the division.
  const uint64_t scale = kPow10[decimals];
  const int int_digits = n - decimals;
  WriteDigits(p, d / scale, int_digits);
  p += int_digits;
  *p++ = '.';
  WriteDigits(p, d % scale, decimals);
  return p + decimals;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  size_t i = 0;
  size_t start = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!NeedsEscape(c)) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = Utf8SeqLen(s, i);
      if (n == 3 && c == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
          (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
        // U+2028 / U+2029 break JavaScript string literals.
        out->append(s.data() + start, i - start);
        out->append((s[i + 2] & 1) ? "\\u2029" : "\\u2028");
        i += 3;
        start = i;
        continue;
      }
      if (n > 0) {
        i += n;
        continue;
      }
      out->append(s.data() + start, i - start);
      out->append("\\ufffd");
      ++i;
      start = i;
      continue;
    }
    out->append(s.data() + start, i - start);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:  // other control characters and <, >, &
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
    ++i;
    start = i;
  }
  out->append(s.data() + start, s.size() - start);
}

void AppendPromValue(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  char buf[48];
  if (char* end = WriteGoFloatFFast(buf, v)) {
    out->append(buf, end);
    return;
  }
  double a = std::fabs(v);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    AppendChars(out, v, std::chars_format::scientific);
  } else {
    AppendGoFixedSlow(out, v);
  }
}

std::string FormatPromValue(double v) {
  std::string s;
  AppendPromValue(&s, v);
  return s;
}

std::string FormatGoFloatF(double v) {
  std::string s;
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[48];
  if (char* end = WriteGoFloatFFast(buf, v)) return std::string(buf, end);
  AppendGoFixedSlow(&s, v);
  return s;
}

namespace {

// AppendPromTimestamp into p (at least 25 bytes); returns the end.
char* WritePromTimestamp(char* p, int64_t ms) {
  uint64_t u;
  if (ms < 0) {
    *p++ = '-';
    u = static_cast<uint64_t>(-(ms + 1)) + 1;
  } else {
    u = static_cast<uint64_t>(ms);
  }
  const uint64_t secs = u / 1000;
  if (secs >= 1000000000 && secs < 10000000000) {
    // Every timestamp from 2001 to 2286: ten digits.
    Write2(p, static_cast<uint32_t>(secs / 100000000));
    const uint32_t low = static_cast<uint32_t>(secs % 100000000);
    Write4(p + 2, low / 10000);
    Write4(p + 6, low % 10000);
    p += 10;
  } else {
    p = WriteUint(p, secs);
  }
  unsigned frac = static_cast<unsigned>(u % 1000);
  if (frac != 0) {
    *p++ = '.';
    WriteDigits(p, frac, 3);
    p += 3;
  }
  return p;
}

}  // namespace

namespace internal {

char* WritePromValue(char* p, double v) {
  if (char* end = WriteGoFloatFFast(p, v)) return end;
  // NaN, Inf and the rare values the fast path leaves: at most 26 bytes
  // (|v| < 1e21 in the 'f' form, an exponent otherwise).
  std::string s;
  AppendPromValue(&s, v);
  std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

char* WritePromPoint(char* p, int64_t ms, double v) {
  *p++ = '[';
  p = WritePromTimestamp(p, ms);
  *p++ = ',';
  *p++ = '"';
  p = WritePromValue(p, v);
  *p++ = '"';
  *p++ = ']';
  return p;
}

}  // namespace internal

void AppendPromTimestamp(std::string* out, int64_t ms) {
  char buf[32];
  out->append(buf, WritePromTimestamp(buf, ms));
}

void AppendGoFloatG(std::string* out, double v) {
  if (std::isnan(v)) {
    out->append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  // strconv's shortest 'g' picks %e when the decimal exponent is < -4
  // or >= 6 (its eprec is fixed at 6 when the precision is -1), so
  // 1e6 -> "1e+06" and 123456 -> "123456".
  char buf[64];
  auto res =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, res.ptr - buf);
  size_t e = sci.find('e');
  int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  constexpr int eprec = 6;
  if (exp < -4 || exp >= eprec) {
    out->append(sci);
  } else {
    AppendChars(out, v, std::chars_format::fixed);
  }
}

void JsonWriter::Key(std::string_view key) {
  Sep();
  out_->push_back('"');
  AppendJsonString(out_, key);
  out_->append("\":");
  need_comma_ = false;
}

void JsonWriter::String(std::string_view s) {
  Sep();
  out_->push_back('"');
  AppendJsonString(out_, s);
  out_->push_back('"');
  need_comma_ = true;
}

void JsonWriter::Int(int64_t v) {
  Sep();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, res.ptr);
  need_comma_ = true;
}

void JsonWriter::Uint(uint64_t v) {
  Sep();
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  out_->append(buf, res.ptr);
  need_comma_ = true;
}

void JsonWriter::Double(double v) {
  Sep();
  if (!std::isfinite(v)) {
    out_->append("null");
  } else {
    // encoding/json: 'f' unless the exponent is < -6 or >= 21, and then
    // "1e-07" is shortened to "1e-7".
    double a = std::fabs(v);
    if (a != 0 && (a < 1e-6 || a >= 1e21)) {
      size_t from = out_->size();
      AppendChars(out_, v, std::chars_format::scientific);
      size_t n = out_->size();
      if (n - from >= 4 && (*out_)[n - 4] == 'e' && (*out_)[n - 3] == '-' &&
          (*out_)[n - 2] == '0') {
        out_->erase(n - 2, 1);
      }
    } else {
      char buf[48];
      if (char* end = WriteGoFloatFFast(buf, v)) {
        out_->append(buf, end);
      } else {
        AppendGoFixedSlow(out_, v);
      }
    }
  }
  need_comma_ = true;
}

void JsonWriter::Bool(bool v) {
  Sep();
  out_->append(v ? "true" : "false");
  need_comma_ = true;
}

void JsonWriter::Null() {
  Sep();
  out_->append("null");
  need_comma_ = true;
}

void JsonWriter::Raw(std::string_view json) {
  Sep();
  out_->append(json);
  need_comma_ = true;
}

void JsonWriter::PromValue(double v) {
  Sep();
  out_->push_back('"');
  AppendPromValue(out_, v);
  out_->push_back('"');
  need_comma_ = true;
}

void JsonWriter::PromTimestamp(int64_t ms) {
  Sep();
  AppendPromTimestamp(out_, ms);
  need_comma_ = true;
}

void JsonWriter::PromPoint(int64_t ms, double v) {
  char buf[internal::kMaxPromPointBytes + 1];
  char* p = buf;
  if (need_comma_) *p++ = ',';
  p = internal::WritePromPoint(p, ms, v);
  out_->append(buf, p);
  need_comma_ = true;
}

void JsonWriter::LabelsObject(const base::Labels& labels) {
  BeginObject();
  for (const base::LabelView& l : labels) {
    Key(l.name);
    String(l.value);
  }
  EndObject();
}

}  // namespace pantau::metrics::api
