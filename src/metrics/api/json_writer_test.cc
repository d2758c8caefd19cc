#include "metrics/api/json_writer.h"

#include <cmath>
#include <limits>

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

TEST(PromTimestamp, SecondsWithThreeDecimalsWhenFractional) {
  EXPECT_EQ(Ts(1000), "1");
  EXPECT_EQ(Ts(1500), "1.500");
  EXPECT_EQ(Ts(1435781451781), "1435781451.781");
  EXPECT_EQ(Ts(1), "0.001");
  EXPECT_EQ(Ts(0), "0");
  EXPECT_EQ(Ts(-1500), "-1.500");
  EXPECT_EQ(Ts(std::numeric_limits<int64_t>::min()), "-9223372036854775.808");
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
