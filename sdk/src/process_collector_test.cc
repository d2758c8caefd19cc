#include "pantau/sdk/process_collector.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"

namespace pantau::sdk {
namespace {

namespace fs = std::filesystem;

const FamilySnapshot* Find(const std::vector<FamilySnapshot>& f,
                           std::string_view name) {
  for (const FamilySnapshot& s : f) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("sdk_proc_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(root_ / "42" / "fd");
  }
  void TearDown() override { fs::remove_all(root_); }
  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(root_ / rel) << text;
  }
  fs::path root_;
};

TEST_F(FakeProc, ReadsEveryMetric) {
  long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  // comm contains a space and a ')' to check the split after the last ')'.
  // utime=250 stime=150 starttime=1000 vsize=8192000 rss=300
  Write("42/stat",
        "42 (my) prog) S 1 42 42 0 -1 4194560 100 0 0 0 250 150 0 0 20 0 "
        "4 0 1000 8192000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 "
        "0 17 1 0 0 0 0 0\n");
  Write("stat", "cpu  1 2 3\nbtime 1700000000\nprocesses 5\n");
  Write("42/limits",
        "Limit                     Soft Limit           Hard Limit  Units\n"
        "Max open files            1024                 524288      files\n");
  for (int i = 0; i < 3; ++i) Write("42/fd/" + std::to_string(i), "");
  ProcessCollector c(root_.string(), "42");
  std::vector<FamilySnapshot> out;
  c.Collect(&out);
  auto value = [&](std::string_view name) {
    const FamilySnapshot* f = Find(out, name);
    EXPECT_NE(f, nullptr) << name;
    return f == nullptr ? -1.0 : f->points.at(0).value;
  };
  EXPECT_DOUBLE_EQ(value("process_cpu_seconds_total"), 400.0 / tck);
  EXPECT_EQ(Find(out, "process_cpu_seconds_total")->type, MetricType::kCounter);
  EXPECT_DOUBLE_EQ(value("process_resident_memory_bytes"), 300.0 * page);
  EXPECT_DOUBLE_EQ(value("process_virtual_memory_bytes"), 8192000);
  EXPECT_DOUBLE_EQ(value("process_start_time_seconds"),
                   1700000000 + 1000.0 / tck);
  EXPECT_DOUBLE_EQ(value("process_open_fds"), 3);
  EXPECT_DOUBLE_EQ(value("process_max_fds"), 1024);
}

TEST_F(FakeProc, MalformedFilesAreSkippedNotFatal) {
  Write("42/stat", "42 (truncated");
  Write("42/limits", "Max open files unlimited unlimited files\n");
  ProcessCollector c(root_.string(), "42");
  std::vector<FamilySnapshot> out;
  c.Collect(&out);
  ASSERT_EQ(out.size(), 1u);  // only the fd count
  EXPECT_EQ(out[0].name, "process_open_fds");
}

TEST_F(FakeProc, MissingProcessGivesNothing) {
  ProcessCollector c(root_.string(), "999");
  std::vector<FamilySnapshot> out;
  c.Collect(&out);
  EXPECT_TRUE(out.empty());
}

TEST(ProcessCollector, ReadsThisProcess) {
  ProcessCollector c;
  std::vector<FamilySnapshot> out;
  c.Collect(&out);
  EXPECT_EQ(out.size(), 6u);
  const FamilySnapshot* rss = Find(out, "process_resident_memory_bytes");
  ASSERT_NE(rss, nullptr);
  EXPECT_GT(rss->points[0].value, 0);
  const FamilySnapshot* start = Find(out, "process_start_time_seconds");
  ASSERT_NE(start, nullptr);
  EXPECT_GT(start->points[0].value, 1.6e9);
}

}  // namespace
}  // namespace pantau::sdk
