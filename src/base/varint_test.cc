#include "base/varint.h"

#include <limits>

#include "gtest/gtest.h"

namespace pantau::base {
namespace {

TEST(Varint, RoundTripsBoundaries) {
  const uint64_t values[] = {
      0,     1,     127,        128,
      16383, 16384, UINT32_MAX, std::numeric_limits<uint64_t>::max()};
  std::string buf;
  for (uint64_t v : values) PutVarint64(&buf, v);
  ByteReader r(buf);
  for (uint64_t v : values) {
    uint64_t got;
    ASSERT_TRUE(r.ReadVarint64(&got));
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(VarintLength(127), 1);
  EXPECT_EQ(VarintLength(128), 2);
  EXPECT_EQ(VarintLength(std::numeric_limits<uint64_t>::max()), 10);
}

TEST(Varint, ZigZagSigned) {
  std::string buf;
  const int64_t values[] = {0,
                            -1,
                            1,
                            -64,
                            64,
                            std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max()};
  for (int64_t v : values) PutVarsint64(&buf, v);
  ByteReader r(buf);
  for (int64_t v : values) {
    int64_t got;
    ASSERT_TRUE(r.ReadVarsint64(&got));
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(ZigZagEncode(-1), 1u);
}

TEST(Varint, TruncatedAndOverlongInputFail) {
  std::string buf;
  PutVarint64(&buf, 300);
  ByteReader short_reader(std::string_view(buf.data(), 1));
  uint64_t v;
  EXPECT_FALSE(short_reader.ReadVarint64(&v));
  EXPECT_FALSE(short_reader.ok());
  // 11 continuation bytes overflow 64 bits.
  std::string overlong(11, '\xff');
  ByteReader r(overlong);
  EXPECT_FALSE(r.ReadVarint64(&v));
  uint32_t v32;
  std::string big;
  PutVarint64(&big, uint64_t{1} << 40);
  ByteReader r32(big);
  EXPECT_FALSE(r32.ReadVarint32(&v32));
}

TEST(ByteReader, FixedAndLengthPrefixed) {
  std::string buf;
  PutFixed32(&buf, 0xdeadbeef);
  PutFixed64(&buf, 0x0102030405060708ull);
  PutLengthPrefixed(&buf, "hello");
  ByteReader r(buf);
  uint32_t a;
  uint64_t b;
  std::string_view s;
  ASSERT_TRUE(r.ReadFixed32(&a));
  ASSERT_TRUE(r.ReadFixed64(&b));
  ASSERT_TRUE(r.ReadLengthPrefixed(&s));
  EXPECT_EQ(a, 0xdeadbeefu);
  EXPECT_EQ(b, 0x0102030405060708ull);
  EXPECT_EQ(s, "hello");
  EXPECT_FALSE(r.ReadFixed32(&a));
  // A length prefix pointing past the end fails instead of over-reading.
  std::string lying;
  PutVarint64(&lying, 1000);
  lying += "abc";
  ByteReader r2(lying);
  EXPECT_FALSE(r2.ReadLengthPrefixed(&s));
}

}  // namespace
}  // namespace pantau::base
