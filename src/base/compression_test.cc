#include "base/compression.h"

#include <string>

#include "gtest/gtest.h"

namespace pantau::base {
namespace {

std::string SampleText() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "http_requests_total{code=\"200\"} 1\n";
  return s;
}

class CodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecTest, RoundTrips) {
  std::string in = SampleText();
  auto packed = Compress(GetParam(), in);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_LT(packed->size(), in.size());
  auto out = Decompress(GetParam(), *packed, in.size());
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, in);
}

TEST_P(CodecTest, OutputLimitStopsDecompressionBombs) {
  std::string in(10 << 20, 'a');  // 10 MiB compresses to almost nothing
  auto packed = Compress(GetParam(), in);
  ASSERT_TRUE(packed.ok());
  auto out = Decompress(GetParam(), *packed, 1 << 20);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_P(CodecTest, CorruptInputIsInvalidArgument) {
  auto packed = Compress(GetParam(), SampleText());
  ASSERT_TRUE(packed.ok());
  std::string broken = packed->substr(0, packed->size() / 2);
  auto out = Decompress(GetParam(), broken, 1 << 20);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument)
      << out.status();
  auto garbage = Decompress(GetParam(), "definitely not compressed", 1 << 20);
  EXPECT_FALSE(garbage.ok());
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, CodecTest,
                         ::testing::Values(Codec::kGzip, Codec::kSnappy,
                                           Codec::kZstd),
                         [](const auto& info) {
                           return std::string(CodecName(info.param));
                         });

TEST(Compression, ContentEncodingNames) {
  EXPECT_EQ(CodecFromContentEncoding("GZIP"), Codec::kGzip);
  EXPECT_EQ(CodecFromContentEncoding("x-gzip"), Codec::kGzip);
  EXPECT_EQ(CodecFromContentEncoding("deflate"), Codec::kGzip);
  EXPECT_EQ(CodecFromContentEncoding("snappy"), Codec::kSnappy);
  EXPECT_EQ(CodecFromContentEncoding(" zstd "), Codec::kZstd);
  EXPECT_EQ(CodecFromContentEncoding("br"), std::nullopt);
}

}  // namespace
}  // namespace pantau::base
