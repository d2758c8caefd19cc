#include "dead_letter_cli.h"

#include <sqlite3.h>

#include <sstream>

#include "../src/test_util.h"
#include "gtest/gtest.h"
#include "pantau/outbox/sqlite_store.h"

namespace pantau::outbox::cli {
namespace {

struct Result {
  int code;
  std::string out, err;
};

Result RunCli(std::vector<std::string> args) {
  std::vector<const char*> argv = {"pantau-outbox"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = Run(static_cast<int>(argv.size()), argv.data(), out, err);
  return {code, out.str(), err.str()};
}

class DeadLetterCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("app.db");
    auto store = SqliteStore::Open(path_);
    ASSERT_TRUE(store.ok());
    SqliteOutbox out((*store)->db());
    sqlite3_exec((*store)->db(), "BEGIN", nullptr, nullptr, nullptr);
    for (int i = 0; i < 2; ++i) {
      Message m;
      m.topic = "orders";
      m.key = "k" + std::to_string(i);
      ASSERT_TRUE(out.Enqueue(m).ok());
      ids_.push_back(m.id);
    }
    sqlite3_exec((*store)->db(), "COMMIT", nullptr, nullptr, nullptr);
    ASSERT_EQ((*store)->Claim("r", 10, absl::Now(), absl::Seconds(30))->size(),
              2u);
    std::vector<Outcome> dead;
    for (const std::string& id : ids_) {
      dead.push_back({.id = id,
                      .error = "HTTP 400",
                      .next_attempt_at = absl::Now(),
                      .dead = true});
    }
    ASSERT_TRUE((*store)->Complete("r", dead, absl::Now()).ok());
  }

  testing::TempDir dir_;
  std::string path_;
  std::vector<std::string> ids_;
};

TEST_F(DeadLetterCliTest, ListsDeadLettersAsTableAndJson) {
  Result r = RunCli({"--db", path_, "dead", "list"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(ids_[0]), std::string::npos);
  EXPECT_NE(r.out.find("HTTP 400"), std::string::npos);
  r = RunCli(
      {"--db", "sqlite:" + path_, "dead", "list", "--json", "--limit", "1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  EXPECT_NE(r.out.find("\"attempts\":1"), std::string::npos) << r.out;
}

TEST_F(DeadLetterCliTest, ReplaysByIdOrAll) {
  Result r = RunCli({"--db", path_, "dead", "replay", ids_[0]});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "replayed 1\n");
  r = RunCli({"--db", path_, "stats"});
  EXPECT_NE(r.out.find("pending 1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dead 1\n"), std::string::npos) << r.out;
  r = RunCli({"--db", path_, "dead", "replay", "--all"});
  EXPECT_EQ(r.out, "replayed 1\n");
  // An id that is not dead is reported as a failure.
  r = RunCli({"--db", path_, "dead", "replay", ids_[0]});
  EXPECT_EQ(r.code, 1);
}

TEST_F(DeadLetterCliTest, RejectsBadUsage) {
  EXPECT_EQ(RunCli({"--db", path_, "dead", "replay"}).code, 2);
  EXPECT_EQ(RunCli({"--db", path_, "dead", "replay", "--all", ids_[0]}).code,
            2);
  EXPECT_EQ(RunCli({"dead", "list"}).code, 2);
  EXPECT_EQ(RunCli({"--db", path_, "cleanup", "--retention", "soon"}).code, 2);
  Result missing = RunCli({"--db", dir_.File("nope.db"), "stats"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("no database file"), std::string::npos);
}

TEST_F(DeadLetterCliTest, CleanupReportsDeletedRows) {
  Result r = RunCli(
      {"--db", path_, "cleanup", "--retention", "1h", "--inbox-window", "30m"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "deleted_delivered 0\ndeleted_inbox 0\n");
}

}  // namespace
}  // namespace pantau::outbox::cli
