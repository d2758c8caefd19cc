#include "metrics/tsdb/chunk.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::tsdb {
namespace {

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
double FromBits(uint64_t b) {
  double v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

struct S {
  int64_t t;
  uint64_t bits;
};

std::vector<S> RoundTrip(const std::vector<S>& in) {
  XorChunk c;
  for (const S& s : in) c.Append(s.t, FromBits(s.bits));
  std::string bytes(c.bytes());
  XorIterator it(bytes);
  std::vector<S> out;
  while (it.Next()) out.push_back({it.t(), it.v_bits()});
  EXPECT_TRUE(it.status().ok()) << it.status();
  return out;
}

void ExpectRoundTrip(const std::vector<S>& in) {
  std::vector<S> out = RoundTrip(in);
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].t, in[i].t) << i;
    EXPECT_EQ(out[i].bits, in[i].bits) << i;
  }
}

TEST(XorChunk, EmptyChunkHasNoSamples) {
  XorChunk c;
  XorIterator it(c.bytes());
  EXPECT_FALSE(it.Next());
  EXPECT_TRUE(it.status().ok());
}

TEST(XorChunk, RegularCountersAndGauges) {
  std::vector<S> in;
  double v = 100;
  for (int i = 0; i < 240; ++i) {
    v += i % 7;
    in.push_back({1700000000000 + i * 15000, Bits(v)});
  }
  ExpectRoundTrip(in);
}

TEST(XorChunk, SpecialValuesAreBitExact) {
  const uint64_t payload_nan = 0x7ff8dead0000beefull;
  std::vector<uint64_t> vals = {
      kStaleNaNBits,
      Bits(std::numeric_limits<double>::quiet_NaN()),
      payload_nan,
      Bits(std::numeric_limits<double>::infinity()),
      Bits(-std::numeric_limits<double>::infinity()),
      Bits(0.0),
      Bits(-0.0),
      Bits(std::numeric_limits<double>::denorm_min()),
      Bits(std::numeric_limits<double>::max()),
      Bits(std::numeric_limits<double>::lowest()),
      kStaleNaNBits,
      kStaleNaNBits,
      Bits(1.5),
      0xffffffffffffffffull,
      0,
      1,
  };
  std::vector<S> in;
  for (size_t i = 0; i < vals.size(); ++i) {
    in.push_back({static_cast<int64_t>(i) * 1000, vals[i]});
  }
  ExpectRoundTrip(in);
}

TEST(XorChunk, EdgeTimestampsAndIrregularIntervals) {
  ExpectRoundTrip({{std::numeric_limits<int64_t>::min(), 1},
                   {std::numeric_limits<int64_t>::min() + 1, 2},
                   {-5, 3},
                   {0, 4},
                   {1, 5},
                   {std::numeric_limits<int64_t>::max() - 1, 6},
                   {std::numeric_limits<int64_t>::max(), 7}});
  std::mt19937_64 rng(42);
  std::vector<S> in;
  int64_t t = -1000000;
  for (int i = 0; i < 240; ++i) {
    // Mix every dod bucket: tiny jitter up to huge gaps.
    const int64_t gaps[] = {1,      15000,   15001,           14000,
                            100000, 3000000, int64_t{1} << 40};
    t += gaps[rng() % 7];
    in.push_back({t, rng()});
  }
  ExpectRoundTrip(in);
}

TEST(XorChunk, DecimalValuesRoundTripAndCompress) {
  std::vector<S> in;
  int64_t centis = 123456789;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 240; ++i) {
    centis += static_cast<int64_t>(rng() % 1500);
    in.push_back({i * 15000, Bits(static_cast<double>(centis) / 100.0)});
  }
  ExpectRoundTrip(in);
  XorChunk c;
  for (const S& s : in) c.Append(s.t, FromBits(s.bits));
  // An XOR of these mantissas costs ~5 bytes; the decimal delta ~2.5.
  EXPECT_LT(c.bytes().size(), 240u * 3);
  // Integers, negative decimals, values near the decimal limit, and
  // switches between decimal and non-decimal values.
  std::vector<double> mixed = {
      0,    1,     -1,     1e15,   -9e15, 0.1,   0.2,    0.30000000000000004,
      -2.5, 1e300, 12.345, 12.346, -0.0,  0.001, 1e-300, 42};
  in.clear();
  for (size_t i = 0; i < mixed.size(); ++i) {
    in.push_back({static_cast<int64_t>(i), Bits(mixed[i])});
  }
  ExpectRoundTrip(in);
}

TEST(XorChunk, RandomMixesRoundTrip) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 300; ++round) {
    std::vector<S> in;
    int64_t t = static_cast<int64_t>(rng() % 1000000) - 500000;
    const int n = 1 + static_cast<int>(rng() % 240);
    for (int i = 0; i < n; ++i) {
      t += 1 + static_cast<int64_t>(rng() % 30000);
      uint64_t bits;
      switch (rng() % 5) {
        case 0:
          bits = rng();
          break;
        case 1:
          bits = Bits(static_cast<double>(
                          static_cast<int64_t>(rng() % 2000000) - 1000000) /
                      std::pow(10.0, static_cast<double>(rng() % 4)));
          break;
        case 2:
          bits = in.empty() ? 0 : in.back().bits;
          break;
        case 3:
          bits = Bits(static_cast<double>(rng() % 1000000000000ull));
          break;
        default:
          bits = kStaleNaNBits;
      }
      in.push_back({t, bits});
    }
    ExpectRoundTrip(in);
  }
}

TEST(XorChunk, SingleSample) { ExpectRoundTrip({{42, Bits(3.25)}}); }

TEST(XorChunk, ConstantSeriesCostsAboutOneBitPerSample) {
  XorChunk c;
  for (int i = 0; i < 240; ++i) c.Append(1700000000000 + i * 15000, 1.0);
  // 2 header + ~6 t0 + 8 v0 + 2 delta, then 1 bit per sample.
  EXPECT_LE(c.bytes().size(), 2u + 7 + 8 + 3 + 30);
}

TEST(XorChunk, TruncatedInputIsAnErrorNotACrash) {
  XorChunk c;
  for (int i = 0; i < 50; ++i) c.Append(i * 1000 + (i % 3), i * 1.7);
  std::string bytes(c.bytes());
  for (size_t n = 0; n < bytes.size(); ++n) {
    XorIterator it(std::string_view(bytes).substr(0, n));
    int got = 0;
    while (it.Next()) ++got;
    EXPECT_FALSE(it.status().ok()) << "prefix " << n;
    EXPECT_LT(got, 50);
  }
}

TEST(XorChunk, GarbageNeverCrashes) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(rng() % 64, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    XorIterator it(junk);
    int64_t last = 0;
    int n = 0;
    while (it.Next()) {
      if (n > 0) {
        EXPECT_GT(it.t(), last);
      }
      last = it.t();
      ++n;
    }
  }
}

TEST(XorChunk, ValidateReportsRange) {
  XorChunk c;
  c.Append(10, 1);
  c.Append(20, 2);
  int n;
  int64_t mint, maxt;
  ASSERT_TRUE(ValidateXorChunk(c.bytes(), &n, &mint, &maxt).ok());
  EXPECT_EQ(n, 2);
  EXPECT_EQ(mint, 10);
  EXPECT_EQ(maxt, 20);
  EXPECT_FALSE(ValidateXorChunk("\x05\x00", &n, &mint, &maxt).ok());
}

}  // namespace
}  // namespace pantau::metrics::tsdb
