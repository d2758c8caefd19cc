#include "metrics/api/json_writer.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace pantau::metrics::api {
namespace {

std::string G(double v) {
  std::string s;
  AppendGoFloatG(&s, v);
  return s;
}

std::string Ts(int64_t ms) {
  std::string s;
  AppendPromTimestamp(&s, ms);
  return s;
}

std::string Esc(std::string_view in) {
  std::string s;
  AppendJsonString(&s, in);
  return s;
}

TEST(PromValue, FormatsAsGoStrconvFWithExponentOutsideRange) {
  EXPECT_EQ(FormatPromValue(1), "1");
  EXPECT_EQ(FormatPromValue(0), "0");
  EXPECT_EQ(FormatPromValue(-0.0), "-0");
  EXPECT_EQ(FormatPromValue(0.1), "0.1");
  EXPECT_EQ(FormatPromValue(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatPromValue(1234567.5), "1234567.5");
  EXPECT_EQ(FormatPromValue(1e20), "100000000000000000000");
  EXPECT_EQ(FormatPromValue(1e21), "1e+21");
  EXPECT_EQ(FormatPromValue(0.000001), "0.000001");
  EXPECT_EQ(FormatPromValue(1e-7), "1e-07");
  EXPECT_EQ(FormatPromValue(-2.5e-10), "-2.5e-10");
  EXPECT_EQ(FormatPromValue(1.7976931348623157e308), "1.7976931348623157e+308");
}

TEST(PromValue, SpecialValues) {
  EXPECT_EQ(FormatPromValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatPromValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatPromValue(std::nan("")), "NaN");
}

TEST(GoFloatF, NeverUsesAnExponent) {
  EXPECT_EQ(FormatGoFloatF(1e-7), "0.0000001");
  EXPECT_EQ(FormatGoFloatF(1e21), "1000000000000000000000");
  EXPECT_EQ(FormatGoFloatF(2.5), "2.5");
  EXPECT_EQ(FormatGoFloatF(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatGoFloatF(std::nan("")), "NaN");
}

// Go's strconv.FormatFloat(v, 'f', -1, 64), written independently of the
// formatter: std::to_chars's shortest scientific digits (the same shortest,
// nearest digits Go's Ryu produces) laid out as Go's fmtF does.
std::string ReferenceGoFloatF(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto res =
      std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string out;
  size_t pos = 0;
  if (sci[0] == '-') {
    out = "-";
    pos = 1;
  }
  size_t e = sci.find('e');
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (size_t i = pos; i < e; ++i) {
    if (sci[i] != '.') digits += sci[i];
  }
  int dp = exp + 1;  // value = 0.<digits> * 10^dp
  int nd = static_cast<int>(digits.size());
  std::string frac;
  for (int i = dp; i < nd; ++i) frac += i < 0 ? '0' : digits[i];
  if (dp > 0) {
    for (int i = 0; i < dp; ++i) out += i < nd ? digits[i] : '0';
  } else {
    out += "0";
  }
  if (!frac.empty()) out += "." + frac;
  return out;
}

// Prometheus's sample value: 'f', or 'e' for |v| < 1e-6 and >= 1e21.
std::string ReferencePromValue(double v) {
  double a = std::fabs(v);
  if (std::isfinite(v) && a != 0 && (a < 1e-6 || a >= 1e21)) {
    char buf[64];
    auto res =
        std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    return std::string(buf, res.ptr);
  }
  return ReferenceGoFloatF(v);
}

double FromBits(uint64_t bits) {
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

// Doubles of every kind a formatter gets wrong: random bit patterns (all
// exponents, and concentrated where query values live), short decimals
// (whose shortest form is short and may tie), integers around 2^53 and
// 2^63, powers of 2 and 10 and their neighbours, and the special values.
std::vector<double> FormatterCases() {
  std::vector<double> vs;
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) vs.push_back(FromBits(rng()));
  for (int i = 0; i < 600000; ++i) {
    uint64_t exp = 1023 - 20 + rng() % 90;  // ~1e-6 .. ~1e21
    uint64_t bits = (rng() & 0x800FFFFFFFFFFFFFull) | (exp << 52);
    vs.push_back(FromBits(bits));
  }
  for (int i = 0; i < 200000; ++i) {
    char buf[64];
    int digits = 1 + static_cast<int>(rng() % 17);
    uint64_t mant = rng() % 100000000000000000ull % [&] {
      uint64_t p = 1;
      for (int d = 0; d < digits; ++d) p *= 10;
      return p;
    }();
    int exp10 = static_cast<int>(rng() % 40) - 25;
    std::snprintf(buf, sizeof buf, "%llue%d",
                  static_cast<unsigned long long>(mant), exp10);
    vs.push_back(std::strtod(buf, nullptr));
  }
  for (int e = -1074; e <= 1023; ++e) {
    double p = std::ldexp(1.0, e);
    vs.push_back(p);
    vs.push_back(std::nextafter(p, 0));
    vs.push_back(std::nextafter(p, 1e300));
    vs.push_back(p * 3);
  }
  for (int e = -30; e <= 30; ++e) {
    double p = std::pow(10.0, e);
    for (double q = p, n = 0; n < 4; ++n) {
      vs.push_back(q);
      vs.push_back(1.5 * q);
      vs.push_back(5 * q);
      q = std::nextafter(q, 1e300);
    }
    for (double q = p, n = 0; n < 4; ++n) {
      q = std::nextafter(q, 0);
      vs.push_back(q);
    }
  }
  for (uint64_t base :
       {uint64_t{1} << 53, uint64_t{1} << 63, uint64_t{100000000000000000}}) {
    for (uint64_t d = 0; d < 2000; ++d) {
      vs.push_back(static_cast<double>(base + d * 7));
      vs.push_back(static_cast<double>(base - d * 7));
    }
  }
  for (int64_t i = -3000; i <= 3000; ++i) {
    vs.push_back(static_cast<double>(i));
    vs.push_back(static_cast<double>(i) / 8);
    vs.push_back(static_cast<double>(i) / 30);  // rates over 30 s
    vs.push_back(static_cast<double>(i) * 0.1);
  }
  for (double v :
       {0.0, 1e-4, 9.999999999999999e-5, 1e17, 9.999999999999998e16, 1e21, 1e-6,
        0.1 + 0.2, 123456789.12345679, std::numeric_limits<double>::max(),
        std::numeric_limits<double>::min(),
        std::numeric_limits<double>::denorm_min(),
        std::numeric_limits<double>::epsilon(),
        std::numeric_limits<double>::infinity(), std::nan("")}) {
    vs.push_back(v);
  }
  size_t n = vs.size();
  for (size_t i = 0; i < n; ++i) vs.push_back(-vs[i]);
  return vs;
}

TEST(PromValue, SameBytesAsShortestRoundTripForManyDoubles) {
  int failures = 0;
  for (double v : FormatterCases()) {
    std::string want = ReferencePromValue(v);
    std::string got = FormatPromValue(v);
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << "value with bits " << std::hex
                    << std::bit_cast<uint64_t>(v) << ": got " << got
                    << ", want " << want;
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(GoFloatF, SameBytesAsShortestRoundTripForManyDoubles) {
  int failures = 0;
  for (double v : FormatterCases()) {
    std::string want = ReferenceGoFloatF(v);
    std::string got = FormatGoFloatF(v);
    if (got != want && ++failures <= 10) {
      ADD_FAILURE() << "value with bits " << std::hex
                    << std::bit_cast<uint64_t>(v) << ": got " << got
                    << ", want " << want;
    }
  }
  EXPECT_EQ(failures, 0);
}

TEST(PromValue, KnownGoOutputs) {
  // strconv.FormatFloat(v, 'f', -1, 64) as Go prints them.
  EXPECT_EQ(FormatPromValue(1152921504606846976.0), "1152921504606847000");
  EXPECT_EQ(FormatPromValue(9007199254740993.0), "9007199254740992");
  EXPECT_EQ(FormatPromValue(123456789.12345679), "123456789.12345679");
  EXPECT_EQ(FormatPromValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatPromValue(2.0 / 3), "0.6666666666666666");
  EXPECT_EQ(FormatPromValue(0.0001), "0.0001");
  EXPECT_EQ(FormatPromValue(100), "100");
  EXPECT_EQ(FormatPromValue(1e17), "100000000000000000");
  EXPECT_EQ(FormatPromValue(-1234.5), "-1234.5");
  EXPECT_EQ(FormatPromValue(5e-324), "5e-324");
  EXPECT_EQ(FormatPromValue(72057594037927936.0), "72057594037927940");
  EXPECT_EQ(FormatPromValue(1e20 + 16384), "100000000000000020000");
  EXPECT_EQ(FormatGoFloatF(3e-5), "0.00003");
  EXPECT_EQ(FormatGoFloatF(1.2345e-5), "0.000012345");
}

TEST(PromPoint, SameAsTimestampAndValueWritten) {
  std::mt19937_64 rng(7);
  std::string got;
  std::string want = "[";
  JsonWriter w(&got);
  w.BeginArray();
  for (int i = 0; i < 20000; ++i) {
    int64_t ms = static_cast<int64_t>(rng() % 4000000000000ull) - 100000000000;
    double v =
        i % 3 == 0 ? FromBits(rng()) : static_cast<double>(rng() % 1000) / 7;
    w.PromPoint(ms, v);
    if (i > 0) want += ",";
    want += "[" + Ts(ms) + ",\"" + ReferencePromValue(v) + "\"]";
  }
  w.EndArray();
  want += "]";
  EXPECT_EQ(got, want);
}

TEST(PromPoints, SameAsOnePromPointEach) {
  // Batched through a stack buffer flushed every few kilobytes, with NaN,
  // Inf and values the fast formatter leaves to the slow one.
  struct P {
    int64_t t;
    double v;
  };
  std::vector<P> pts;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 5000; ++i) {
    int64_t t = 1700000000000 + i * 15000 + (i % 7 == 0 ? 500 : 0);
    double v = i % 11 == 0   ? std::nan("")
               : i % 13 == 0 ? -std::numeric_limits<double>::infinity()
               : i % 17 == 0 ? 1e-5 / (i + 1)
               : i % 19 == 0 ? 1e20 * (i + 1)
                             : FromBits(rng());
    pts.push_back(P{t, v});
  }
  for (size_t n : {size_t{0}, size_t{1}, size_t{60}, pts.size()}) {
    std::vector<P> sub(pts.begin(), pts.begin() + n);
    std::string batched, single;
    JsonWriter a(&batched);
    a.BeginArray();
    a.PromPoints(sub);
    a.EndArray();
    JsonWriter b(&single);
    b.BeginArray();
    for (const P& p : sub) b.PromPoint(p.t, p.v);
    b.EndArray();
    EXPECT_EQ(batched, single) << n;
  }
}

TEST(PromTimestamp, SecondsWithThreeDecimalsWhenFractional) {
  EXPECT_EQ(Ts(1000), "1");
  EXPECT_EQ(Ts(1500), "1.500");
  EXPECT_EQ(Ts(1435781451781), "1435781451.781");
  EXPECT_EQ(Ts(1), "0.001");
  EXPECT_EQ(Ts(0), "0");
  EXPECT_EQ(Ts(-1500), "-1.500");
  EXPECT_EQ(Ts(std::numeric_limits<int64_t>::min()), "-9223372036854775.808");
  EXPECT_EQ(Ts(999999999999), "999999999.999");  // around the ten-digit path
  EXPECT_EQ(Ts(1000000000000), "1000000000");
  EXPECT_EQ(Ts(9999999999999), "9999999999.999");
  EXPECT_EQ(Ts(10000000000000), "10000000000");
  EXPECT_EQ(Ts(1700000000050), "1700000000.050");
}

TEST(GoFloatG, ShortestWithExponentFromSixDigits) {
  EXPECT_EQ(G(123456), "123456");
  EXPECT_EQ(G(1e6), "1e+06");
  EXPECT_EQ(G(1234567), "1.234567e+06");
  EXPECT_EQ(G(0.0001), "0.0001");
  EXPECT_EQ(G(0.00001), "1e-05");
  EXPECT_EQ(G(1.5), "1.5");
  EXPECT_EQ(G(1.7e9), "1.7e+09");
  EXPECT_EQ(G(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(G(std::nan("")), "NaN");
}

TEST(JsonString, EscapesLikeGoEncodingJson) {
  EXPECT_EQ(Esc("plain"), "plain");
  EXPECT_EQ(Esc("a\"b\\c"), "a\\\"b\\\\c");
  EXPECT_EQ(Esc("\n\r\t\x01"), "\\n\\r\\t\\u0001");
  EXPECT_EQ(Esc("<a&b>"), "\\u003ca\\u0026b\\u003e");
  EXPECT_EQ(Esc("h\xc3\xa9"), "h\xc3\xa9");  // valid UTF-8 kept
  EXPECT_EQ(Esc("a\xff"
                "b"),
            "a\\ufffdb");  // invalid byte replaced
  EXPECT_EQ(Esc("\xe2\x80\xa8"), "\\u2028");
  EXPECT_EQ(Esc("\xc3"), "\\ufffd");  // truncated sequence
}

TEST(JsonWriter, DoubleLikeGoEncodingJson) {
  std::string out;
  JsonWriter w(&out);
  w.BeginArray();
  w.Double(0.012);
  w.Double(1e-7);
  w.Double(1.5e-10);
  w.Double(1e21);
  w.Double(3);
  w.EndArray();
  EXPECT_EQ(out, "[0.012,1e-7,1.5e-10,1e+21,3]");
}

TEST(JsonWriter, InsertsCommasAcrossNesting) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("a");
  w.BeginArray();
  w.Int(1);
  w.BeginObject();
  w.EndObject();
  w.PromPoint(1500, 2);
  w.EndArray();
  w.Key("b");
  w.Bool(true);
  w.Key("c");
  w.Double(std::nan(""));
  w.Key("d");
  w.LabelsObject(base::Labels::Of({{"x", "1"}, {"a", "2"}}));
  w.EndObject();
  EXPECT_EQ(
      out,
      R"({"a":[1,{},[1.500,"2"]],"b":true,"c":null,"d":{"a":"2","x":"1"}})");
}

}  // namespace
}  // namespace pantau::metrics::api
