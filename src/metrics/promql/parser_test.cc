#include "metrics/promql/parser.h"

#include "gtest/gtest.h"
#include "metrics/promql/engine.h"

namespace pantau::metrics::promql {
namespace {

std::string ErrorOf(std::string_view q) {
  auto e = ParseExpr(q);
  if (e.ok()) return "";
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(e.status().message());
}

TEST(Parser, SyntaxErrorsGivePosition) {
  EXPECT_EQ(ErrorOf("sum(rate(x[5m])"),
            "1:16: parse error: unclosed left parenthesis");
  EXPECT_EQ(ErrorOf("foo{a=\"b\" c=\"d\"}"),
            "1:11: parse error: unexpected identifier \"c\" in label "
            "matching, expected \",\" or \"}\"");
  EXPECT_EQ(ErrorOf("1 +"), "1:4: parse error: unexpected end of input");
  EXPECT_EQ(ErrorOf("foo\n  + )"),
            "2:5: parse error: unexpected right parenthesis ')'");
  EXPECT_EQ(ErrorOf("x[5x]"),
            "1:3: parse error: bad number or duration syntax: \"5x\"");
}

TEST(Parser, TypeErrors) {
  EXPECT_EQ(ErrorOf("rate(x)"),
            "1:6: parse error: expected type range vector in call to "
            "function \"rate\", got instant vector");
  EXPECT_EQ(ErrorOf("sum(x[5m])"),
            "1:5: parse error: expected type instant vector in aggregation "
            "expression, got range vector");
  EXPECT_EQ(ErrorOf("1 > 2"),
            "1:3: parse error: comparisons between scalars must use BOOL "
            "modifier");
  // The operand that is not a scalar or instant vector, as Prometheus says.
  EXPECT_EQ(ErrorOf("up[5m] + 1"),
            "1:1: parse error: binary expression must contain only scalar "
            "and instant vector types");
  EXPECT_EQ(ErrorOf("1 + up[5m]"),
            "1:5: parse error: binary expression must contain only scalar "
            "and instant vector types");
  EXPECT_EQ(ErrorOf("1 and x"),
            "1:3: parse error: set operator \"and\" not allowed in binary "
            "scalar expression");
  EXPECT_EQ(ErrorOf("{a=~\".*\"}"),
            "1:1: parse error: vector selector must contain at least one "
            "non-empty matcher");
  EXPECT_EQ(ErrorOf("nosuchfn(x)"),
            "1:1: parse error: unknown function with name \"nosuchfn\"");
  EXPECT_EQ(ErrorOf("x offset 1m offset 2m"),
            "1:13: parse error: offset may not be set multiple times");
}

TEST(Parser, HugeDurationsAreErrors) {
  EXPECT_EQ(ErrorOf("x[999999999999999y]"),
            "1:3: parse error: duration out of range: \"999999999999999y\"");
  EXPECT_NE(ErrorOf("x offset 99999999999y"), "");
  EXPECT_NE(ErrorOf("x @ 1e300"), "");
}

TEST(Parser, Literals) {
  auto num = [](std::string_view q) {
    auto e = ParseExpr(q);
    EXPECT_TRUE(e.ok()) << q;
    return static_cast<const NumberLiteral&>(**e).value;
  };
  EXPECT_EQ(num("0x1F"), 31);
  EXPECT_EQ(num("1e3"), 1000);
  EXPECT_EQ(num(".5"), 0.5);
}

TEST(Parser, UnaryMinusBindsLooserThanPower) {
  auto e = ParseExpr("-2 ^ 2");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)->kind, NodeKind::kUnary);
  EXPECT_EQ((*e)->String(), "-2 ^ 2");
}

TEST(Parser, StringEscapes) {
  auto e = ParseExpr(R"(x{a="\u00e9\n\"", b='\'', c=`\raw`})");
  ASSERT_TRUE(e.ok()) << e.status();
  const auto& vs = static_cast<const VectorSelector&>(**e);
  EXPECT_EQ(vs.matchers[1].value(), "\xc3\xa9\n\"");
  EXPECT_EQ(vs.matchers[2].value(), "'");
  EXPECT_EQ(vs.matchers[3].value(), "\\raw");
  EXPECT_NE(ErrorOf(R"(x{a="\q"})"), "");
  EXPECT_NE(ErrorOf("x{a=\"unterminated}"), "");
}

TEST(Parser, DeepNestingIsAnErrorNotAStackOverflow) {
  std::string parens(100000, '(');
  EXPECT_NE(ErrorOf(parens + "1" + std::string(100000, ')')), "");
  std::string chain = "1";
  for (int i = 0; i < 100000; ++i) chain += "+1";
  EXPECT_EQ(ErrorOf(chain), "1:1: parse error: query is nested too deeply");
  std::string unary(100000, '-');
  EXPECT_NE(ErrorOf(unary + "x"), "");
  std::string ok = "1";
  for (int i = 0; i < 300; ++i) ok += "+1";
  EXPECT_EQ(ErrorOf(ok), "");
}

TEST(Parser, PathologicalRegexIsAnErrorNotACrash) {
  EXPECT_NE(ErrorOf("x{a=~\"(\"}"), "");
  EXPECT_NE(ErrorOf("x{a=~\"a{1000000}\"}"), "");
}

TEST(Parser, PrintsBackAsPromQL) {
  const char* cases[][2] = {
      {"sum by(a)(rate(x{b=\"c\"}[5m] offset 1m))",
       "sum by (a) (rate(x{b=\"c\"}[5m] offset 1m))"},
      {"a + on(b) group_left(c) d", "a + on (b) group_left (c) d"},
      {"x{a=\"1\", b!=\"2\"}", "x{a=\"1\",b!=\"2\"}"},
      {"sum by () (x) + sum without () (x)", "sum(x) + sum without () (x)"},
      {"+x", "+x"},
      {"x @ 100", "x @ 100.000"},
      {"max_over_time(x[1h:5m] @ end())", "max_over_time(x[1h:5m] @ end())"},
      {"-1", "-1"},
      {"1 == bool 2", "1 == bool 2"},
  };
  for (const auto& c : cases) {
    auto f = FormatQuery(c[0]);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(*f, c[1]);
  }
}

// Expected strings taken from Prometheus 2.42's /api/v1/format_query.
TEST(Parser, FormatQueryMatchesPrometheus) {
  const char* cases[][2] = {
      {"x offset 5m @ 100", "x @ 100.000 offset 5m"},
      {"x[5m:1m] offset 5m @ 100", "x[5m:1m] @ 100.000 offset 5m"},
      {"x{b=\"1\",a=\"2\"}", "x{a=\"2\",b=\"1\"}"},
      {"histogram_quantile(0.99, sum by (le, job) "
       "(rate(http_request_duration_seconds_bucket{job=\"api-server\", "
       "handler=\"/api/v1/query_range\"}[5m])))",
       "histogram_quantile(\n  0.99,\n  sum by (le, job) (\n    "
       "rate(http_request_duration_seconds_bucket{handler=\"/api/v1/"
       "query_range\",job=\"api-server\"}[5m])\n  )\n)"},
      {"(sum(rate(http_requests_total{job=\"api-server\", "
       "handler=~\"/api/v1/.*\", code!~\"5..\"}[5m])) + sum(rate(x[5m]))) "
       "* 100",
       "  (\n      sum(rate(http_requests_total{code!~\"5..\",handler=~\"/"
       "api/v1/.*\",job=\"api-server\"}[5m]))\n    +\n      "
       "sum(rate(x[5m]))\n  )\n*\n  100"},
  };
  for (const auto& c : cases) {
    auto f = FormatQuery(c[0]);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(*f, c[1]);
  }
}

TEST(Parser, SelectorMatchersAreExposed) {
  auto e = ParseExpr("sum(a{x=\"1\"}) + rate(b[5m])");
  ASSERT_TRUE(e.ok());
  auto sels = CollectSelectors(**e);
  ASSERT_EQ(sels.size(), 2u);
  EXPECT_EQ(sels[0]->name, "a");
  EXPECT_EQ(sels[0]->matchers.size(), 2u);
  EXPECT_EQ(sels[1]->name, "b");
  auto ms = ParseMetricSelector("up{job=~\"a.*\"}");
  ASSERT_TRUE(ms.ok());
  EXPECT_EQ(ms->size(), 2u);
  EXPECT_FALSE(ParseMetricSelector("sum(up)").ok());
}

}  // namespace
}  // namespace pantau::metrics::promql
