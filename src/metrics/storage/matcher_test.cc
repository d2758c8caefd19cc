#include "metrics/storage/matcher.h"

#include "gtest/gtest.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics {
namespace {

TEST(Matcher, EqualityAndInequality) {
  Matcher eq = Matcher::Must(MatchType::kEqual, "job", "api");
  EXPECT_TRUE(eq.Matches("api"));
  EXPECT_FALSE(eq.Matches("apis"));
  EXPECT_FALSE(eq.MatchesEmpty());
  Matcher ne = Matcher::Must(MatchType::kNotEqual, "job", "api");
  EXPECT_TRUE(ne.Matches(""));
  EXPECT_TRUE(ne.MatchesEmpty());
  Matcher eq_empty = Matcher::Must(MatchType::kEqual, "job", "");
  EXPECT_TRUE(eq_empty.MatchesEmpty());
}

TEST(Matcher, RegexIsFullyAnchored) {
  Matcher re = Matcher::Must(MatchType::kRegexMatch, "code", "2..");
  EXPECT_TRUE(re.Matches("200"));
  EXPECT_FALSE(re.Matches("1200"));
  EXPECT_FALSE(re.Matches("2000"));
  Matcher alt = Matcher::Must(MatchType::kRegexMatch, "a", "x|y");
  EXPECT_TRUE(alt.Matches("y"));
  EXPECT_FALSE(alt.Matches("xy"));
  Matcher nre = Matcher::Must(MatchType::kRegexNoMatch, "code", "5..");
  EXPECT_TRUE(nre.Matches("200"));
  EXPECT_FALSE(nre.Matches("503"));
  // Dot matches newlines, as in Prometheus.
  EXPECT_TRUE(
      Matcher::Must(MatchType::kRegexMatch, "a", "a.b").Matches("a\nb"));
}

TEST(Matcher, EmptyMatchingForIndexPlanning) {
  EXPECT_TRUE(Matcher::Must(MatchType::kRegexMatch, "a", ".*").MatchesEmpty());
  EXPECT_FALSE(Matcher::Must(MatchType::kRegexMatch, "a", ".+").MatchesEmpty());
  EXPECT_TRUE(
      Matcher::Must(MatchType::kRegexNoMatch, "a", ".+").MatchesEmpty());
}

TEST(Matcher, SetMatchesForLiteralAlternations) {
  EXPECT_EQ(Matcher::Must(MatchType::kRegexMatch, "a", "x|y|z").SetMatches(),
            (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_TRUE(
      Matcher::Must(MatchType::kRegexMatch, "a", "x.*").SetMatches().empty());
}

TEST(Matcher, BadRegexIsAnError) {
  auto m = Matcher::Create(MatchType::kRegexMatch, "a", "(unclosed");
  EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(m.status().message().find("(unclosed"), std::string::npos);
}

TEST(Matcher, ToStringQuotes) {
  EXPECT_EQ(Matcher::Must(MatchType::kRegexNoMatch, "a", "x\"y").ToString(),
            R"(a!~"x\"y")");
}

TEST(StaleNaN, IsDistinctFromOrdinaryNaN) {
  EXPECT_TRUE(IsStaleNaN(StaleNaN()));
  EXPECT_FALSE(IsStaleNaN(std::nan("")));
  EXPECT_TRUE(std::isnan(StaleNaN()));
}

}  // namespace
}  // namespace pantau::metrics
