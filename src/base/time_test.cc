#include "base/time.h"

#include "gtest/gtest.h"

namespace pantau::base {
namespace {

TEST(Duration, ParsesPrometheusForms) {
  EXPECT_EQ(*ParseDuration("5m"), absl::Minutes(5));
  EXPECT_EQ(*ParseDuration("1h30m"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("250ms"), absl::Milliseconds(250));
  EXPECT_EQ(*ParseDuration("1d"), absl::Hours(24));
  EXPECT_EQ(*ParseDuration("2w"), absl::Hours(24 * 14));
  EXPECT_EQ(*ParseDuration("1y"), absl::Hours(24 * 365));
  EXPECT_EQ(*ParseDuration("1m30s500ms"), absl::Milliseconds(90500));
  EXPECT_EQ(*ParseDuration("0"), absl::ZeroDuration());
}

TEST(Duration, RejectsMalformed) {
  for (const char* bad : {"", "5", "m", "5x", "1.5h", "-5m", "30s1m", "5m5m",
                          "1h 30m", "99999999999999999999y"}) {
    EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
  }
}

TEST(Duration, FormatsLikePrometheus) {
  EXPECT_EQ(base::FormatDuration(absl::Minutes(90)), "1h30m");
  EXPECT_EQ(base::FormatDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(base::FormatDuration(absl::Milliseconds(1500)), "1s500ms");
  EXPECT_EQ(base::FormatDuration(absl::Hours(24 * 7)), "1w");
  for (const char* s : {"5m", "1h30m", "2d3h", "1y2w"}) {
    EXPECT_EQ(base::FormatDuration(*ParseDuration(s)), s);
  }
}

TEST(ApiTimestamp, UnixSecondsAndRfc3339) {
  EXPECT_EQ(*ParseApiTimestampMillis("1700000000"), 1700000000000);
  EXPECT_EQ(*ParseApiTimestampMillis("1700000000.123"), 1700000000123);
  EXPECT_EQ(*ParseApiTimestampMillis("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(*ParseApiTimestampMillis("2023-11-14T22:13:20.5+00:00"),
            1700000000500);
  EXPECT_FALSE(ParseApiTimestampMillis("yesterday").ok());
  EXPECT_FALSE(ParseApiTimestampMillis("NaN").ok());
  EXPECT_FALSE(ParseApiTimestampMillis("").ok());
}

TEST(ApiTimestamp, FormatsUnixSeconds) {
  EXPECT_EQ(FormatUnixSeconds(1700000000000), "1700000000");
  EXPECT_EQ(FormatUnixSeconds(1700000000120), "1700000000.12");
  EXPECT_EQ(FormatUnixSeconds(1), "0.001");
  EXPECT_EQ(FormatUnixSeconds(-1), "-1.999");
}

TEST(FakeClock, MovesOnlyWhenTold) {
  FakeClock clock(absl::FromUnixSeconds(100));
  absl::Duration mono = clock.Monotonic();
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(100));
  clock.Advance(absl::Seconds(5));
  EXPECT_EQ(clock.Now(), absl::FromUnixSeconds(105));
  EXPECT_EQ(clock.Monotonic() - mono, absl::Seconds(5));
  EXPECT_EQ(FormatRfc3339Millis(absl::FromUnixMillis(1700000000123)),
            "2023-11-14T22:13:20.123Z");
}

}  // namespace
}  // namespace pantau::base
