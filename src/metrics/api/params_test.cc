#include "metrics/api/params.h"

#include "gtest/gtest.h"

namespace pantau::metrics::api {
namespace {

TEST(ParseTime, UnixSecondsAndRfc3339) {
  EXPECT_EQ(*ParseTime("1700000000"), 1700000000000);
  EXPECT_EQ(*ParseTime("1700000000.123"), 1700000000123);
  EXPECT_EQ(*ParseTime("1700000000.1236"), 1700000000124);  // rounded
  EXPECT_EQ(*ParseTime("-1.5"), -1500);
  EXPECT_EQ(*ParseTime("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(*ParseTime("2023-11-14T23:13:20.5+01:00"), 1700000000500);
}

TEST(ParseTime, PrometheusBoundsRoundTrip) {
  EXPECT_EQ(*ParseTime("-292273086-05-16T16:47:06Z"), kMinTimeMs);
  EXPECT_EQ(*ParseTime("292277025-08-18T07:12:54.999999999Z"), kMaxTimeMs);
}

TEST(ParseTime, BadInputHasPrometheusMessage) {
  for (const char* s : {"", "abc", " 1", "2023-13-01T00:00:00Z", "NaN"}) {
    absl::StatusOr<int64_t> t = ParseTime(s);
    ASSERT_FALSE(t.ok()) << s;
    EXPECT_EQ(t.status().message(),
              std::string("cannot parse \"") + s + "\" to a valid timestamp");
  }
}

TEST(ParseTimeParam, DefaultAndWrappedError) {
  net::HttpRequest req;
  req.params.Add("start", "x");
  EXPECT_EQ(*ParseTimeParam(req, "end", 42), 42);
  absl::StatusOr<int64_t> t = ParseTimeParam(req, "start", 0);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(InvalidParam(t.status(), "start").message(),
            "invalid parameter \"start\": Invalid time value for 'start': "
            "cannot parse \"x\" to a valid timestamp");
}

TEST(ParseDurationParam, FloatSecondsOrPrometheusDuration) {
  EXPECT_EQ(*ParseDurationParam("15"), absl::Seconds(15));
  EXPECT_EQ(*ParseDurationParam("0.5"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDurationParam("1m"), absl::Minutes(1));
  EXPECT_EQ(*ParseDurationParam("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDurationParam("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseDurationParam("-1"), absl::Seconds(-1));
}

TEST(ParseDurationParam, BadInput) {
  EXPECT_EQ(ParseDurationParam("x").status().message(),
            "cannot parse \"x\" to a valid duration");
  EXPECT_EQ(ParseDurationParam("").status().message(),
            "cannot parse \"\" to a valid duration");
  EXPECT_EQ(ParseDurationParam("1e300").status().message(),
            "cannot parse \"1e300\" to a valid duration. It overflows int64");
  EXPECT_FALSE(ParseDurationParam("5 m").ok());
}

TEST(ParseMatchersParam, ParsesEachSelector) {
  auto sets = ParseMatchersParam({"up", R"({job="a",i=~"x.*"})"});
  ASSERT_TRUE(sets.ok()) << sets.status();
  ASSERT_EQ(sets->size(), 2u);
  EXPECT_EQ((*sets)[0].size(), 1u);
  EXPECT_EQ((*sets)[1].size(), 2u);
}

TEST(ParseMatchersParam, RejectsEmptyMatchingSetsAndBadSyntax) {
  auto empty = ParseMatchersParam({R"({job=~".*"})"});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("at least one non-empty matcher"),
            std::string::npos);
  auto bad = ParseMatchersParam({"up{"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("parse error"), std::string::npos);
}

TEST(ParseLimitParam, NonNegativeInteger) {
  net::HttpRequest req;
  EXPECT_EQ(*ParseLimitParam(req, "limit", "m"), 0);
  req.params.Add("limit", "5");
  EXPECT_EQ(*ParseLimitParam(req, "limit", "m"), 5);
  net::HttpRequest bad;
  bad.params.Add("limit", "x");
  EXPECT_EQ(ParseLimitParam(bad, "limit", "limit must be a number")
                .status()
                .message(),
            "limit must be a number");
}

}  // namespace
}  // namespace pantau::metrics::api
