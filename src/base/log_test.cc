#include "base/log.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace pantau::base {
namespace {

class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SetLogSink([this](std::string_view line) { lines_.emplace_back(line); });
    SetLogLevel(LogLevel::kInfo);
  }
  void TearDown() override {
    SetLogSink(nullptr);
    SetLogFormat(LogFormat::kLogfmt);
    SetLogLevel(LogLevel::kInfo);
  }
  std::vector<std::string> lines_;
};

TEST_F(LogTest, LogfmtQuotesWhereNeeded) {
  PANTAU_LOG(kInfo, "server started",
             {{"address", ":9090"}, {"workers", 4}, {"path", "a b=\"c\""}});
  ASSERT_EQ(lines_.size(), 1u);
  const std::string& l = lines_[0];
  EXPECT_NE(l.find("level=info"), std::string::npos) << l;
  EXPECT_NE(l.find("msg=\"server started\""), std::string::npos) << l;
  EXPECT_NE(l.find("address=:9090"), std::string::npos) << l;
  EXPECT_NE(l.find("workers=4"), std::string::npos) << l;
  EXPECT_NE(l.find(R"(path="a b=\"c\"")"), std::string::npos) << l;
  EXPECT_NE(l.find("caller=log_test.cc:"), std::string::npos) << l;
  EXPECT_EQ(l.rfind("ts=", 0), 0u) << l;
}

TEST_F(LogTest, JsonIsValidJson) {
  SetLogFormat(LogFormat::kJson);
  PANTAU_LOG(kWarn, "odd \"input\"\n", {{"n", 3}, {"ok", true}, {"s", "x"}});
  ASSERT_EQ(lines_.size(), 1u);
  auto j = nlohmann::json::parse(lines_[0]);
  EXPECT_EQ(j["level"], "warn");
  EXPECT_EQ(j["msg"], "odd \"input\"\n");
  EXPECT_EQ(j["n"], 3);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["s"], "x");
}

TEST_F(LogTest, LevelFilters) {
  PANTAU_LOG(kDebug, "hidden");
  SetLogLevel(LogLevel::kDebug);
  PANTAU_LOG(kDebug, "shown");
  ASSERT_EQ(lines_.size(), 1u);
  EXPECT_NE(lines_[0].find("shown"), std::string::npos);
  EXPECT_FALSE(ParseLogLevel("verbose").ok());
  EXPECT_EQ(*ParseLogLevel("WARN"), LogLevel::kWarn);
  EXPECT_FALSE(ParseLogFormat("xml").ok());
}

}  // namespace
}  // namespace pantau::base
