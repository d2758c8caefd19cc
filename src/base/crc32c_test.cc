#include "base/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace pantau::base {
namespace {

TEST(Crc32c, KnownVectors) {
  // Check values from RFC 3720 (iSCSI) appendix B.4.
  EXPECT_EQ(crc32c::Value("123456789"), 0xe3069283u);
  EXPECT_EQ(crc32c::Value(std::string(32, '\0')), 0x8a9136aau);
  EXPECT_EQ(crc32c::Value(std::string(32, '\xff')), 0x62a8ab43u);
  EXPECT_EQ(crc32c::Value(""), 0u);
}

TEST(Crc32c, ExtendEqualsWhole) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  for (size_t split : {0u, 1u, 7u, 8u, 9u, 500u, 999u, 1000u}) {
    uint32_t part = crc32c::Extend(0, data.data(), split);
    part = crc32c::Extend(part, data.data() + split, data.size() - split);
    EXPECT_EQ(part, crc32c::Value(data)) << "split at " << split;
  }
}

}  // namespace
}  // namespace pantau::base
