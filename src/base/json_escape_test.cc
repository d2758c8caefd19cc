#include "base/json_escape.h"

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pantau::base {
namespace {

TEST(JsonEscape, EscapesQuotesBackslashesAndControls) {
  std::string out;
  AppendJsonEscaped(&out, std::string_view("a\"b\\c\n\r\t\x01\x1f é", 13));
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f é");
}

TEST(JsonEscape, EveryByteRoundTripsThroughAJsonParser) {
  std::string raw;
  for (int c = 1; c < 0x80; ++c) raw.push_back(static_cast<char>(c));
  std::string doc = "\"";
  AppendJsonEscaped(&doc, raw);
  doc.push_back('"');
  EXPECT_EQ(nlohmann::json::parse(doc).get<std::string>(), raw);
}

}  // namespace
}  // namespace pantau::base
