#include "metrics/scrape/exposition_parser.h"

#include <cmath>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pantau::metrics::scrape {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
  std::optional<int64_t> ts;
  bool has_exemplar = false;
  std::vector<std::pair<std::string, std::string>> exemplar_labels;
  double exemplar_value = 0;
  std::optional<int64_t> exemplar_ts;
};

// Parses the whole body; returns the series or the first error.
absl::StatusOr<std::vector<Parsed>> ParseAll(std::string_view body,
                                             ExpositionFormat f) {
  ExpositionParser p(body, f);
  std::vector<Parsed> out;
  while (true) {
    absl::StatusOr<ExpositionEntry> e = p.Next();
    if (!e.ok()) return e.status();
    if (*e == ExpositionEntry::kEof) return out;
    if (*e != ExpositionEntry::kSeries) continue;
    Parsed s;
    s.name = std::string(p.metric_name());
    for (const auto& l : p.labels()) {
      s.labels.emplace_back(std::string(l.name), std::string(l.value));
    }
    s.value = p.value();
    s.ts = p.timestamp_ms();
    s.has_exemplar = p.has_exemplar();
    for (const auto& l : p.exemplar_labels()) {
      s.exemplar_labels.emplace_back(std::string(l.name), std::string(l.value));
    }
    s.exemplar_value = p.exemplar_value();
    s.exemplar_ts = p.exemplar_timestamp_ms();
    out.push_back(std::move(s));
  }
}

TEST(TextParser, ParsesSamplesMetadataAndComments) {
  std::string body =
      "# HELP http_requests_total The total \\\\ number\\n of requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
      "\n"
      "# a comment\n"
      "  msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\F\",error=\"Cannot "
      "find \\\"file\\\"\\n\"} 1.458255915e9\n"
      "metric_without_timestamp_and_labels 12.47\n"
      "trailing_comma{a=\"b\",} 1\n"
      "spaces { a = \"b\" , c=\"d\" } -3\n";
  ExpositionParser p(body, ExpositionFormat::kText004);
  auto e = p.Next();
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(*e, ExpositionEntry::kHelp);
  EXPECT_EQ(p.metric_name(), "http_requests_total");
  EXPECT_EQ(p.help(), "The total \\ number\n of requests.");
  e = p.Next();
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(*e, ExpositionEntry::kType);
  EXPECT_EQ(p.type(), MetricType::kCounter);

  auto all = ParseAll(body, ExpositionFormat::kText004);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 6u);
  EXPECT_EQ((*all)[0].name, "http_requests_total");
  EXPECT_EQ((*all)[0].labels[1],
            std::make_pair(std::string("code"), std::string("200")));
  EXPECT_EQ((*all)[0].value, 1027);
  EXPECT_EQ((*all)[0].ts, 1395066363000);
  EXPECT_EQ((*all)[2].labels[0].second, "C:\\DIR\\F");
  EXPECT_EQ((*all)[2].labels[1].second, "Cannot find \"file\"\n");
  EXPECT_EQ((*all)[2].value, 1.458255915e9);
  EXPECT_FALSE((*all)[3].ts.has_value());
  EXPECT_EQ((*all)[4].labels.size(), 1u);
  EXPECT_EQ((*all)[5].labels.size(), 2u);
  EXPECT_EQ((*all)[5].value, -3);
}

TEST(TextParser, SpecialValues) {
  auto all = ParseAll("a NaN\nb +Inf\nc -Inf\nd Inf\ne nan\nf 1e400\n",
                      ExpositionFormat::kText004);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_TRUE(std::isnan((*all)[0].value));
  EXPECT_EQ((*all)[1].value, INFINITY);
  EXPECT_EQ((*all)[2].value, -INFINITY);
  EXPECT_EQ((*all)[3].value, INFINITY);
  EXPECT_TRUE(std::isnan((*all)[4].value));
  EXPECT_EQ((*all)[5].value, INFINITY);
}

TEST(TextParser, ErrorsNameTheLine) {
  struct Case {
    const char* body;
    const char* error;
  };
  const Case cases[] = {
      {"ok 1\nbad{a=\"b\" 1\n", "line 2: expected ',' or '}'"},
      {"a{b=\"c\"}\n", "line 1: expected value"},
      {"a{b=\"c\"} x\n", "line 1: invalid value"},
      {"a 1 2 3\n", "line 1: unexpected text after sample"},
      {"a 1 1.5\n", "line 1: invalid timestamp"},
      {"a{1b=\"c\"} 1\n", "line 1: expected label name"},
      {"a{b=c} 1\n", "line 1: expected '\"'"},
      {"a{b=\"c} 1\n", "line 1: unterminated value"},
      {"a{b=\"x\",b=\"y\"} 1\n", "line 1: duplicate label name \"b\""},
      {"a{__name__=\"x\"} 1\n", "duplicate label name \"__name__\""},
      {"a{b=\"\xff\xfe\"} 1\n", "line 1: invalid UTF-8 in value of label"},
      {"a{b=\"\xc0\x80\"} 1\n", "invalid UTF-8"},  // overlong
      {"# TYPE a flubber\n", "line 1: invalid metric type"},
      {"# TYPE a gaugehistogram\n", "invalid metric type"},
      {"1abc 1\n", "line 1: expected metric name"},
      {"{a=\"b\"} 1\n", "expected metric name"},
      {"a 1 #\n", "invalid timestamp"},
  };
  for (const Case& c : cases) {
    auto r = ParseAll(c.body, ExpositionFormat::kText004);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.error))
        << c.body;
  }
}

TEST(TextParser, ManyLabelsDuplicateDetected) {
  std::string body = "m{";
  for (int i = 0; i < 100; ++i) body += "l" + std::to_string(i) + "=\"v\",";
  body += "l50=\"x\"} 1\n";
  auto r = ParseAll(body, ExpositionFormat::kText004);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("duplicate"));
}

TEST(TextParser, LastLineWithoutNewline) {
  auto r = ParseAll("a 1\nb 2", ExpositionFormat::kText004);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 2u);
}

TEST(OpenMetricsParser, ParsesExemplarsUnitsAndEof) {
  std::string body =
      "# TYPE foo counter\n"
      "# UNIT foo seconds\n"
      "# HELP foo A \\\"quoted\\\" help\n"
      "foo_total{a=\"1\"} 17.0 1520879607.789 # {trace_id=\"KOO5S4vxi0o\"} "
      "0.67 1520879602.890\n"
      "foo_total{a=\"2\"} 2 # {trace_id=\"x\"} 1\n"
      "foo_created{a=\"1\"} 1520430000.123\n"
      "# TYPE s stateset\n"
      "s{s=\"a\"} 1\n"
      "# EOF\n";
  ExpositionParser p(body, ExpositionFormat::kOpenMetrics);
  ASSERT_EQ(*p.Next(), ExpositionEntry::kType);
  ASSERT_EQ(*p.Next(), ExpositionEntry::kUnit);
  EXPECT_EQ(p.unit(), "seconds");
  ASSERT_EQ(*p.Next(), ExpositionEntry::kHelp);
  EXPECT_EQ(p.help(), "A \"quoted\" help");

  auto all = ParseAll(body, ExpositionFormat::kOpenMetrics);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 4u);
  const Parsed& a = (*all)[0];
  EXPECT_EQ(a.ts, 1520879607789);
  ASSERT_TRUE(a.has_exemplar);
  EXPECT_EQ(a.exemplar_labels[0].second, "KOO5S4vxi0o");
  EXPECT_EQ(a.exemplar_value, 0.67);
  EXPECT_EQ(a.exemplar_ts, 1520879602890);
  EXPECT_TRUE((*all)[1].has_exemplar);
  EXPECT_FALSE((*all)[1].exemplar_ts.has_value());
  EXPECT_FALSE((*all)[1].ts.has_value());
  EXPECT_FALSE((*all)[2].has_exemplar);
}

TEST(OpenMetricsParser, StrictnessErrors) {
  struct Case {
    const char* body;
    const char* error;
  };
  const Case cases[] = {
      {"a 1\n", "line 2: data does not end with # EOF"},
      {"a 1\n\n# EOF\n", "line 2: unexpected empty line"},
      {"# random comment\n# EOF\n", "line 1: unexpected comment"},
      {"# EOF\na 1\n", "line 2: unexpected data after # EOF"},
      {"a  1\n# EOF\n", "line 1: expected value"},
      {"a 1 \n# EOF\n", "line 1: unexpected text after sample"},
      {"a 1 # {x=\"y\"}\n# EOF\n", "expected exemplar value"},
      {"a 1 # x\n# EOF\n", "expected label set after exemplar"},
      {"a 1 abc\n# EOF\n", "invalid timestamp"},
      {"# TYPE a untyped\n# EOF\n", "invalid metric type"},
      {"a_total 1 # {trace_id=\"0123456789012345678901234567890123456789"
       "0123456789012345678901234567890123456789012345678901234567890123456"
       "7890123456789012345678\"} 1\n# EOF\n",
       "exemplar label set exceeds 128 characters"},
  };
  for (const Case& c : cases) {
    auto r = ParseAll(c.body, ExpositionFormat::kOpenMetrics);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.error))
        << c.body;
  }
}

TEST(OpenMetricsParser, EofWithoutTrailingNewline) {
  auto r = ParseAll("a 1\n# EOF", ExpositionFormat::kOpenMetrics);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->size(), 1u);
}

TEST(ContentType, PicksParser) {
  EXPECT_EQ(FormatFromContentType(
                "application/openmetrics-text; version=1.0.0; charset=utf-8"),
            ExpositionFormat::kOpenMetrics);
  EXPECT_EQ(FormatFromContentType("text/plain; version=0.0.4"),
            ExpositionFormat::kText004);
  EXPECT_EQ(FormatFromContentType(""), ExpositionFormat::kText004);
}

TEST(Utf8, Validation) {
  EXPECT_TRUE(IsValidUtf8("héllo ✓ 😀"));
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
}

}  // namespace
}  // namespace pantau::metrics::scrape
