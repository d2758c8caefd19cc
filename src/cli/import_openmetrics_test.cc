#include "cli/import_openmetrics.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "metrics/tsdb/db.h"
#include "metrics/tsdb/test_util.h"

namespace pantau::cli {
namespace {

namespace fs = std::filesystem;
using metrics::tsdb::testing::Eq;
using metrics::tsdb::testing::Query;
using ::testing::HasSubstr;

class ImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "import_test_XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string WriteFile(const std::string& text) {
    const std::string path = dir_ + "/in.om";
    std::ofstream(path) << text;
    return path;
  }

  size_t CountBlocks(const std::string& out) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(out)) {
      if (e.is_directory() && e.path().filename().string().size() == 26) ++n;
    }
    return n;
  }

  std::string dir_;
};

TEST_F(ImportTest, BlocksHoldEverySampleAndOpenAsDataDir) {
  // 3 h of one counter and one histogram bucket: two 2 h blocks.
  std::string text =
      "# TYPE http_requests counter\n"
      "# HELP http_requests Requests.\n";
  for (int i = 0; i < 12; ++i) {
    text += "http_requests_total{job=\"api\",code=\"200\"} " +
            std::to_string(i * 10) + " " + std::to_string(i * 900) + ".0\n";
  }
  text += "# TYPE latency histogram\n";
  text += "latency_bucket{le=\"0.5\"} 3 100\n";
  text += "latency_bucket{le=\"+Inf\"} 4 100\n";
  text += "latency_count 4 100\n";
  text += "latency_sum 1.5 100\n";
  text += "# EOF\n";
  const std::string out = dir_ + "/data/metrics";
  ImportOptions options{.file = WriteFile(text), .out_dir = out};
  auto result = ImportOpenMetrics(options);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->samples, 16u);
  EXPECT_EQ(result->series, 5u);
  EXPECT_EQ(result->min_time, 0);
  EXPECT_EQ(result->max_time, 11 * 900 * 1000);
  EXPECT_EQ(result->blocks, 2u);
  EXPECT_EQ(CountBlocks(out), 2u);
  // Nothing but blocks is left behind.
  EXPECT_FALSE(fs::exists(out + "/wal"));

  metrics::tsdb::Options db_options;
  db_options.dir = out;
  db_options.retention_ms = 0;
  db_options.maintenance_interval = absl::ZeroDuration();
  auto db = metrics::tsdb::DB::Open(db_options);
  ASSERT_TRUE(db.ok()) << db.status();
  auto got = Query(**db, {Eq("__name__", "http_requests_total")});
  ASSERT_EQ(got.size(), 1u);
  const auto& samples = got.begin()->second;
  ASSERT_EQ(samples.size(), 12u);
  EXPECT_EQ(samples[11].t, 11 * 900 * 1000);
  EXPECT_EQ(samples[11].v, 110);
  EXPECT_THAT(got.begin()->first, HasSubstr("code=\"200\""));
  auto bucket =
      Query(**db, {Eq("__name__", "latency_bucket"), Eq("le", "+Inf")});
  ASSERT_EQ(bucket.size(), 1u);
  EXPECT_EQ(bucket.begin()->second.at(0).v, 4);
  EXPECT_EQ(bucket.begin()->second.at(0).t, 100000);
  ASSERT_TRUE((*db)->Close().ok());
}

TEST_F(ImportTest, SampleWithoutTimestampNamesTheLine) {
  const std::string out = dir_ + "/out";
  ImportOptions options{.file = WriteFile("a 1 10\na 2\n# EOF\n"),
                        .out_dir = out};
  auto result = ImportOpenMetrics(options);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("line 2"));
  EXPECT_THAT(result.status().message(), HasSubstr("timestamp"));
  EXPECT_EQ(CountBlocks(out), 0u);
}

TEST_F(ImportTest, MalformedLineFailsAndLeavesNoBlocks) {
  const std::string out = dir_ + "/out";
  ImportOptions options{.file = WriteFile("a 1 10\na{b=\"c} 2 20\n# EOF\n"),
                        .out_dir = out};
  auto result = ImportOpenMetrics(options);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("line 2"));
  EXPECT_EQ(CountBlocks(out), 0u);
  // The scratch DB is gone too.
  EXPECT_TRUE(fs::is_empty(out));
}

TEST_F(ImportTest, OutOfOrderSampleNamesTheLine) {
  ImportOptions options{.file = WriteFile("a 1 20\na 2 10\n# EOF\n"),
                        .out_dir = dir_ + "/out"};
  auto result = ImportOpenMetrics(options);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.status().message(), HasSubstr("line 2"));
}

TEST_F(ImportTest, MissingFileIsAnError) {
  ImportOptions options{.file = dir_ + "/nope.om", .out_dir = dir_ + "/out"};
  EXPECT_FALSE(ImportOpenMetrics(options).ok());
}

}  // namespace
}  // namespace pantau::cli
