#include "pantau/sdk/logs.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pantau/sdk/trace.h"

namespace pantau::sdk {
namespace {

using ::testing::HasSubstr;

struct Captured {
  std::vector<std::string> lines;
  std::function<void(std::string_view)> Sink() {
    return [this](std::string_view l) { lines.emplace_back(l); };
  }
};

TEST(Logger, LogfmtLine) {
  base::FakeClock clock(absl::FromUnixMillis(1700000000123));
  Captured out;
  Logger log({.sink = out.Sink(), .clock = &clock});
  log.Info("order placed", {{"order_id", "A 1"},
                            {"amount", 12.5},
                            {"count", size_t{3}},
                            {"ok", true},
                            {"empty", ""}});
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0],
            "ts=2023-11-14T22:13:20.123Z level=info msg=\"order placed\" "
            "order_id=\"A 1\" amount=12.5 count=3 ok=true empty=\"\"");
}

TEST(Logger, JsonLineEscapes) {
  base::FakeClock clock(absl::FromUnixMillis(1700000000123));
  Captured out;
  Logger log({.format = LogFormat::kJson, .sink = out.Sink(), .clock = &clock});
  log.Warn("a \"b\"\n", {{"n", -7}, {"x", "\x01"}, {"nan", std::nan("")}});
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_EQ(out.lines[0],
            "{\"ts\":\"2023-11-14T22:13:20.123Z\",\"level\":\"warn\","
            "\"msg\":\"a \\\"b\\\"\\n\",\"n\":-7,\"x\":\"\\u0001\","
            "\"nan\":\"nan\"}");
}

TEST(Logger, BelowMinimumSeverityIsDiscarded) {
  Captured out;
  Logger log({.min_severity = Severity::kWarn, .sink = out.Sink()});
  log.Debug("no");
  log.Info("no");
  log.Error("yes");
  EXPECT_FALSE(log.Enabled(Severity::kInfo));
  ASSERT_EQ(out.lines.size(), 1u);
  EXPECT_THAT(out.lines[0], HasSubstr("level=error"));
}

TEST(Logger, StampsActiveSpanAndExports) {
  auto exporter = std::make_shared<InMemoryLogRecordExporter>();
  auto processor = std::make_shared<BatchLogRecordProcessor>(
      exporter, BatchOptions{.schedule_delay = absl::Hours(1)});
  Captured out;
  Logger log({.sink = out.Sink(), .processors = {processor}});
  TracerProvider provider;
  Span span = provider.GetTracer("t").StartSpan("work");
  {
    Scope scope(span);
    log.Info("inside", {{"k", "v"}});
  }
  log.Info("outside");
  ASSERT_TRUE(log.ForceFlush().ok());
  ASSERT_EQ(out.lines.size(), 2u);
  EXPECT_THAT(out.lines[0],
              HasSubstr("trace_id=" + span.context().trace_id.ToHex() +
                        " span_id=" + span.context().span_id.ToHex()));
  EXPECT_THAT(out.lines[1], ::testing::Not(HasSubstr("trace_id")));
  auto records = exporter->records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].body, "inside");
  EXPECT_EQ(records[0].trace_id, span.context().trace_id);
  EXPECT_EQ(records[0].trace_flags, kTraceFlagSampled);
  EXPECT_EQ(records[0].severity, Severity::kInfo);
  EXPECT_EQ(records[0].scope->name, "pantau.sdk.logs");
  EXPECT_FALSE(records[1].trace_id.IsValid());
}

TEST(Logger, ExportOnlyWritesNoText) {
  Captured out;
  auto exporter = std::make_shared<InMemoryLogRecordExporter>();
  auto processor = std::make_shared<BatchLogRecordProcessor>(exporter);
  Logger log(
      {.sink = out.Sink(), .text_output = false, .processors = {processor}});
  log.Error("x");
  ASSERT_TRUE(log.Shutdown().ok());
  EXPECT_TRUE(out.lines.empty());
  EXPECT_EQ(exporter->records().size(), 1u);
}

}  // namespace
}  // namespace pantau::sdk
