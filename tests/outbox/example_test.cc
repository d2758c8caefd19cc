// The complete example of docs/outbox.md: the page shows the program as it
// is in the tree, and the program does what the page says it does against
// a real JetStream server.
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "servers.h"

namespace pantau::outbox {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(OutboxDocs, CompleteExampleIsTheProgramInTheTree) {
  const std::string root = PANTAU_SOURCE_DIR;
  std::string doc = ReadFile(root + "/docs/outbox.md");
  std::string src = ReadFile(root + "/outbox/example/orders_example.cc");
  ASSERT_FALSE(src.empty());
  size_t section = doc.find("## Complete example");
  ASSERT_NE(section, std::string::npos);
  size_t open = doc.find("```cpp\n", section);
  ASSERT_NE(open, std::string::npos);
  open += 7;
  size_t close = doc.find("\n```", open);
  ASSERT_NE(close, std::string::npos);
  EXPECT_EQ(doc.substr(open, close + 1 - open), src)
      << "docs/outbox.md shows another program than "
         "outbox/example/orders_example.cc";
}

TEST(OutboxExample, RoundTripThroughJetStreamAsTheDocsSay) {
  auto nats = testing::NatsServer::Start();
  if (!nats.ok()) GTEST_SKIP() << "no nats-server: " << nats.status();
  testing::ScopedTempDir dir("outbox_example");
  const std::string log = dir.path() + "/output";
  // A data directory that does not exist yet, as in the docs' command.
  auto pid = testing::Spawn(
      {OUTBOX_EXAMPLE, (*nats)->url(), dir.path() + "/orders-demo"}, log);
  ASSERT_TRUE(pid.ok()) << pid.status();
  int rc = testing::WaitOrKill(*pid, absl::Seconds(60));
  std::string out = ReadFile(log);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("enqueued "), std::string::npos) << out;
  EXPECT_NE(out.find("billing handled 1 message(s)"), std::string::npos) << out;
}

}  // namespace
}  // namespace pantau::outbox
