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

// Packed chunks: EncodePacked directly and CompactChunk (what block
// writing uses) must give back exactly the samples they were given.
std::vector<S> ReadAll(std::string_view bytes) {
  ChunkIterator it(bytes);
  std::vector<S> out;
  while (it.Next()) out.push_back({it.t(), it.v_bits()});
  EXPECT_TRUE(it.status().ok()) << it.status();
  return out;
}

// Packs `in` and checks it reads back bit-exactly; returns the bytes.
std::string ExpectPackedRoundTrip(const std::vector<S>& in) {
  std::vector<int64_t> t;
  std::vector<uint64_t> v;
  for (const S& s : in) {
    t.push_back(s.t);
    v.push_back(s.bits);
  }
  std::string packed = EncodePacked(t, v);
  EXPECT_FALSE(packed.empty());
  std::vector<S> out = ReadAll(packed);
  EXPECT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size() && i < out.size(); ++i) {
    EXPECT_EQ(out[i].t, in[i].t) << i;
    EXPECT_EQ(out[i].bits, in[i].bits) << i;
  }
  // CompactChunk picks whichever is smaller and never changes a sample.
  XorChunk c;
  for (const S& s : in) c.Append(s.t, FromBits(s.bits));
  const EncodedChunk e = CompactChunk(c.bytes());
  EXPECT_LE(e.data.size(), c.bytes().size());
  EXPECT_EQ(e.encoding == kEncodingPacked,
            e.data == packed && packed.size() < c.bytes().size());
  std::vector<S> compacted = ReadAll(e.data);
  EXPECT_EQ(compacted.size(), in.size());
  for (size_t i = 0; i < in.size() && i < compacted.size(); ++i) {
    EXPECT_EQ(compacted[i].t, in[i].t) << i;
    EXPECT_EQ(compacted[i].bits, in[i].bits) << i;
  }
  return packed;
}

TEST(PackedChunk, DecimalCounterIsMuchSmallerThanXor) {
  // A cpu-seconds counter: two decimals, increments jittered over ~800
  // centiseconds, so about 10 bits per sample of real information.
  std::vector<S> in;
  int64_t centis = 123456789;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 240; ++i) {
    centis += 1000 + static_cast<int64_t>(rng() % 800);
    in.push_back(
        {1700000000000 + i * 15000, Bits(static_cast<double>(centis) / 100.0)});
  }
  const std::string packed = ExpectPackedRoundTrip(in);
  XorChunk c;
  for (const S& s : in) c.Append(s.t, FromBits(s.bits));
  EXPECT_LT(packed.size(), 240u * 10 / 8 + 40);
  EXPECT_LT(packed.size() * 2, c.bytes().size());
}

TEST(PackedChunk, RegularTimestampsAndConstantValueCostAlmostNothing) {
  std::vector<S> in;
  for (int i = 0; i < 240; ++i) {
    in.push_back({1700000000000 + i * 15000, Bits(34359738368.0)});
  }
  EXPECT_LE(ExpectPackedRoundTrip(in).size(), 32u);
}

TEST(PackedChunk, MultiplesOfAPageAndRestingGauges) {
  // Memory gauges: multiples of 4096, unchanged half of the time.
  std::vector<S> in;
  std::mt19937_64 rng(5);
  int64_t pages = 1000000;
  for (int i = 0; i < 240; ++i) {
    if (rng() % 2) pages += static_cast<int64_t>(rng() % 2000) - 1000;
    in.push_back({i * 15000, Bits(static_cast<double>(pages) * 4096)});
  }
  // ~1 bit flag + half of ~11 bits, not the 12 extra bits of the page size.
  EXPECT_LT(ExpectPackedRoundTrip(in).size(), 240u * 7 / 8 + 40);
}

TEST(PackedChunk, SpecialValuesAndOutliersAreBitExact) {
  const uint64_t payload_nan = 0x7ff8dead0000beefull;
  std::vector<uint64_t> specials = {
      kStaleNaNBits,
      Bits(std::numeric_limits<double>::quiet_NaN()),
      payload_nan,
      Bits(std::numeric_limits<double>::infinity()),
      Bits(-std::numeric_limits<double>::infinity()),
      Bits(-0.0),
      Bits(std::numeric_limits<double>::denorm_min()),
      Bits(std::numeric_limits<double>::max()),
      Bits(0.30000000000000004),
      Bits(1e300),
      0xffffffffffffffffull,
      1,
  };
  // Specials first, in the middle and last, among decimal counter values
  // with a reset (an outlier) in between.
  for (size_t at : {size_t{0}, size_t{1}, size_t{2}, size_t{100}}) {
    std::vector<S> in;
    double v = 1000.25;
    for (int i = 0; i < 200; ++i) {
      v = i == 120 ? 0.5 : v + 0.25 * (1 + i % 5);
      in.push_back({i * 15000 + (i % 7 == 0 ? 3 : 0), Bits(v)});
    }
    for (size_t k = 0; k < specials.size(); ++k) {
      in[(at + k * 7) % in.size()].bits = specials[k];
    }
    in.back().bits = kStaleNaNBits;
    ExpectPackedRoundTrip(in);
  }
  // Only specials.
  std::vector<S> in;
  for (size_t k = 0; k < specials.size(); ++k) {
    in.push_back({static_cast<int64_t>(k), specials[k]});
  }
  ExpectPackedRoundTrip(in);
}

TEST(PackedChunk, ExtremeTimestampsAndIntegers) {
  ExpectPackedRoundTrip({{std::numeric_limits<int64_t>::min(), Bits(1.0)},
                         {std::numeric_limits<int64_t>::min() + 1, Bits(2.0)},
                         {-5, Bits(9007199254740992.0)},
                         {0, Bits(-9007199254740992.0)},
                         {1, Bits(0.0)},
                         {std::numeric_limits<int64_t>::max() - 1, Bits(1e-15)},
                         {std::numeric_limits<int64_t>::max(), Bits(-1e15)}});
  ExpectPackedRoundTrip({{42, Bits(3.25)}});
}

TEST(PackedChunk, RandomMixesRoundTrip) {
  std::mt19937_64 rng(12);
  for (int round = 0; round < 400; ++round) {
    std::vector<S> in;
    int64_t t = static_cast<int64_t>(rng() % 1000000) - 500000;
    const int n = 1 + static_cast<int>(rng() % 240);
    const int scale = static_cast<int>(rng() % 8);
    int64_t k = static_cast<int64_t>(rng() % 100000000);
    for (int i = 0; i < n; ++i) {
      t += rng() % 3 ? 15000 : 1 + static_cast<int64_t>(rng() % 30000);
      switch (rng() % 8) {
        case 0:
          in.push_back({t, rng()});
          continue;
        case 1:
          in.push_back({t, kStaleNaNBits});
          continue;
        case 2:
          k = static_cast<int64_t>(rng() % 1000);  // a reset
          break;
        default:
          k += static_cast<int64_t>(rng() % 5000);
      }
      in.push_back({t, Bits(static_cast<double>(k) /
                            std::pow(10.0, static_cast<double>(scale)))});
    }
    ExpectPackedRoundTrip(in);
  }
}

TEST(PackedChunk, XorChunksStayReadableAndCompactKeepsThemWhenSmaller) {
  // Values that are no short decimals but differ from each other in a few
  // exponent bits: XOR's home ground, so the XOR chunk is kept as it was.
  XorChunk c;
  for (int i = 0; i < 100; ++i) c.Append(i * 1000, M_PI * (1 << (i % 4)));
  const EncodedChunk e = CompactChunk(c.bytes());
  EXPECT_EQ(e.encoding, kEncodingXor);
  EXPECT_EQ(e.data, c.bytes());
  // An already packed chunk is recognised, not re-encoded.
  XorChunk d;
  for (int i = 0; i < 100; ++i) d.Append(i * 1000, i);
  const EncodedChunk p = CompactChunk(d.bytes());
  ASSERT_EQ(p.encoding, kEncodingPacked);
  const EncodedChunk again = CompactChunk(p.data);
  EXPECT_EQ(again.encoding, kEncodingPacked);
  EXPECT_EQ(again.data, p.data);
  int n;
  int64_t mint, maxt;
  ASSERT_TRUE(ValidateXorChunk(p.data, &n, &mint, &maxt).ok());
  EXPECT_EQ(n, 100);
  EXPECT_EQ(mint, 0);
  EXPECT_EQ(maxt, 99000);
}

TEST(PackedChunk, TruncatedAndGarbageInputIsAnErrorNotACrash) {
  std::vector<int64_t> t;
  std::vector<uint64_t> v;
  for (int i = 0; i < 60; ++i) {
    t.push_back(i * 15000 + (i % 4 == 0 ? 7 : 0));
    v.push_back(i % 9 == 0 ? kStaleNaNBits : Bits(i * 0.5 + (i == 30) * 1e6));
  }
  const std::string packed = EncodePacked(t, v);
  ASSERT_FALSE(packed.empty());
  for (size_t n = 0; n < packed.size(); ++n) {
    ChunkIterator it(std::string_view(packed).substr(0, n));
    int got = 0;
    while (it.Next()) ++got;
    EXPECT_FALSE(it.status().ok()) << "prefix " << n;
    EXPECT_LT(got, 60);
  }
  std::mt19937_64 rng(8);
  for (int round = 0; round < 3000; ++round) {
    std::string junk(2 + rng() % 80, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    junk[1] = static_cast<char>(junk[1] | 0x80);  // packed header
    if (round % 2 == 0) {
      // Mutate a valid chunk instead of pure noise.
      junk = packed;
      junk[2 + rng() % (junk.size() - 2)] ^=
          static_cast<char>(1 << (rng() % 8));
    }
    ChunkIterator it(junk);
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

// The iterator decodes the common packed samples several at a time; an
// outlier or special anywhere in such a run, with regular or jittered
// timestamps, must still come back in place.
TEST(PackedChunk, OutliersAndSpecialsAtEveryPositionOfARun) {
  for (int jitter = 0; jitter < 2; ++jitter) {
    for (int p = 0; p < 20; ++p) {
      std::vector<S> in;
      double v = 1000;
      for (int i = 0; i < 40; ++i) {
        v += (i * 7) % 13;
        uint64_t bits = Bits(v);
        if (i == p) bits = kStaleNaNBits;
        if (i == (p + 5) % 40) bits = Bits(v + 1e12);
        in.push_back({i * 15000 + (jitter != 0 ? (i * 31) % 5 : 0), bits});
      }
      SCOPED_TRACE(testing::Message() << "jitter " << jitter << " p " << p);
      ExpectPackedRoundTrip(in);
    }
  }
}

// A chunk cut short (a torn block file) yields the samples its bytes hold,
// in order, then DATA_LOSS: a reader never sees a wrong sample.
TEST(PackedChunk, TruncatedChunkYieldsAPrefixThenAnError) {
  for (int jitter = 0; jitter < 2; ++jitter) {
    std::vector<int64_t> t;
    std::vector<uint64_t> v;
    int64_t centis = 123456;
    for (int i = 0; i < 240; ++i) {
      t.push_back(i * 15000 + (jitter != 0 ? (i * 37) % 11 : 0));
      centis += (i * 389) % 1500;
      v.push_back(Bits(static_cast<double>(centis) / 100.0));
    }
    const std::string packed = EncodePacked(t, v);
    ASSERT_FALSE(packed.empty());
    size_t prev_got = 0;
    for (size_t n = 2; n <= packed.size(); ++n) {
      ChunkIterator it(std::string_view(packed).substr(0, n));
      size_t got = 0;
      while (it.Next()) {
        ASSERT_LT(got, t.size());
        EXPECT_EQ(it.t(), t[got]) << "prefix " << n;
        EXPECT_EQ(it.v_bits(), v[got]) << "prefix " << n;
        ++got;
      }
      EXPECT_GE(got, prev_got) << "prefix " << n;
      prev_got = got;
      if (n < packed.size()) {
        EXPECT_FALSE(it.status().ok()) << "prefix " << n;
      } else {
        EXPECT_TRUE(it.status().ok()) << it.status();
        EXPECT_EQ(got, t.size());
      }
    }
  }
}

}  // namespace
}  // namespace pantau::metrics::tsdb
