#include "pantau/sdk/prometheus_text.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "pantau/sdk/process_collector.h"

namespace pantau::sdk {
namespace {

TEST(PrometheusText, CountersGaugesAndHistograms) {
  Registry r;
  auto& req = r.CounterFamily({.name = "http_requests_total",
                               .help = "Requests served.",
                               .label_names = {"method", "code"}});
  req.WithLabels({"POST", "500"}).Inc();
  req.WithLabels({"GET", "200"}).Add(3);
  r.GetUpDownCounter("inflight", "In flight.").Add(2);
  Histogram& h = r.GetHistogram("lat_seconds", "Latency.", {0.25, 1});
  h.Observe(0.1);
  h.Observe(0.5);
  h.Observe(7);
  EXPECT_EQ(PrometheusText(r),
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "http_requests_total{method=\"POST\",code=\"500\"} 1\n"
            "# HELP inflight In flight.\n"
            "# TYPE inflight gauge\n"
            "inflight 2\n"
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{le=\"0.25\"} 1\n"
            "lat_seconds_bucket{le=\"1\"} 2\n"
            "lat_seconds_bucket{le=\"+Inf\"} 3\n"
            "lat_seconds_sum 7.6\n"
            "lat_seconds_count 3\n");
}

TEST(PrometheusText, HistogramLabelsPrecedeLe) {
  Registry r;
  auto& f = r.HistogramFamily(
      {.name = "d_seconds", .help = "D.", .label_names = {"route"}}, {1});
  f.WithLabels({"/a"}).Observe(2);
  std::string text = PrometheusText(r);
  EXPECT_NE(text.find("d_seconds_bucket{route=\"/a\",le=\"1\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("d_seconds_bucket{route=\"/a\",le=\"+Inf\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("d_seconds_count{route=\"/a\"} 1\n"), std::string::npos);
}

TEST(PrometheusText, EscapesHelpAndLabelValues) {
  Registry r;
  r.GaugeFamily({.name = "g", .help = "a \\ b\nc \"q\"", .label_names = {"v"}})
      .WithLabels({"x\\y\n\"z\""})
      .Set(1);
  EXPECT_EQ(PrometheusText(r),
            "# HELP g a \\\\ b\\nc \"q\"\n"
            "# TYPE g gauge\n"
            "g{v=\"x\\\\y\\n\\\"z\\\"\"} 1\n");
}

TEST(PrometheusText, EmptyLabelValuesAreLeftOut) {
  Registry r;
  r.GaugeFamily({.name = "g", .help = "G.", .label_names = {"a", "b"}})
      .WithLabels({"", "1"})
      .Set(1);
  EXPECT_NE(PrometheusText(r).find("\ng{b=\"1\"} 1\n"), std::string::npos);
}

TEST(PrometheusText, FloatFormatting) {
  EXPECT_EQ(FormatPrometheusValue(1), "1");
  EXPECT_EQ(FormatPrometheusValue(0.1), "0.1");
  EXPECT_EQ(FormatPrometheusValue(-2.5), "-2.5");
  EXPECT_EQ(FormatPrometheusValue(1e21), "1e+21");
  EXPECT_EQ(FormatPrometheusValue(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FormatPrometheusValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatPrometheusValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatPrometheusValue(NAN), "NaN");
  // Every finite value reads back exactly.
  for (double v : {0.005, 123456789.123, 5e-324, 1.7976931348623157e308}) {
    EXPECT_EQ(std::strtod(FormatPrometheusValue(v).c_str(), nullptr), v);
  }
}

bool HavePromtool() {
  return std::system("command -v promtool >/dev/null 2>&1") == 0;
}

// Runs `promtool check metrics` on `text`; returns its exit code and
// output.
int Promtool(const std::string& text, std::string* output) {
  auto dir = std::filesystem::temp_directory_path() /
             ("sdk_promtool_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "in.txt") << text;
  std::string cmd = "promtool check metrics < " + (dir / "in.txt").string() +
                    " > " + (dir / "out.txt").string() + " 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream in(dir / "out.txt");
  output->assign(std::istreambuf_iterator<char>(in), {});
  std::filesystem::remove_all(dir);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

TEST(PrometheusText, PassesPromtool) {
  if (!HavePromtool()) GTEST_SKIP() << "promtool not on PATH";
  Registry r;
  auto& req = r.CounterFamily({.name = "http_requests_total",
                               .help = "Requests \"served\" \\ total.",
                               .label_names = {"method", "code"}});
  req.WithLabels({"GET", "200"}).Add(1e21);
  req.WithLabels({"PO\"ST\n", "5\\00"}).Inc();
  r.GetGauge("temperature_celsius", "Temp.").Set(NAN);
  r.GetGauge("limit_bytes", "Limit.").Set(INFINITY);
  r.GetUpDownCounter("queue_length", "Length.").Add(-3.25);
  auto& lat = r.HistogramFamily({.name = "http_request_duration_seconds",
                                 .help = "Duration.",
                                 .label_names = {"route"}},
                                ExponentialBuckets(0.001, 2.5, 12));
  lat.WithLabels({"/api/v1/query"}).Observe(0.2);
  lat.WithLabels({"/"}).Observe(1e-9);
  r.AddCollector(std::make_shared<ProcessCollector>());
  std::string text = PrometheusText(r);
  ASSERT_NE(text.find("process_cpu_seconds_total"), std::string::npos);
  std::string output;
  EXPECT_EQ(Promtool(text, &output), 0) << output << "\n" << text;
}

TEST(PrometheusText, PromtoolRejectsBrokenText) {
  // Shows the promtool check above can fail.
  if (!HavePromtool()) GTEST_SKIP() << "promtool not on PATH";
  std::string output;
  EXPECT_NE(Promtool("# TYPE x counter\nx{a=\"1} 1\n", &output), 0);
}

}  // namespace
}  // namespace pantau::sdk
