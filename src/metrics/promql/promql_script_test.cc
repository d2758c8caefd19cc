// Runs the conformance scripts (Prometheus 2.42's promql/testdata, kept in
// ../shared/conformance/promql or $PANTAU_PROMQL_CONFORMANCE_DIR) and
// pantau's own scripts in tests/promql/, one test per file.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/promql/testing/script.h"

namespace pantau::metrics::promql {
namespace {

namespace fs = std::filesystem;

struct ScriptFile {
  std::string suite;  // "conformance" or "pantau"
  std::string path;   // empty: the directory is missing
  std::string name;
};

std::string ConformanceDir() {
  if (const char* env = std::getenv("PANTAU_PROMQL_CONFORMANCE_DIR")) {
    return env;
  }
  return std::string(PANTAU_SOURCE_DIR) + "/../shared/conformance/promql";
}

std::vector<ScriptFile> List(const std::string& suite, const std::string& dir) {
  std::vector<ScriptFile> out;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      if (e.path().extension() == ".test") {
        out.push_back({suite, e.path().string(), e.path().stem().string()});
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  if (out.empty()) out.push_back({suite, "", "missing"});
  return out;
}

std::vector<ScriptFile> AllFiles() {
  std::vector<ScriptFile> all = List("conformance", ConformanceDir());
  for (auto& f :
       List("pantau", std::string(PANTAU_SOURCE_DIR) + "/tests/promql")) {
    all.push_back(f);
  }
  return all;
}

void PrintTo(const ScriptFile& f, std::ostream* os) { *os << f.path; }

struct Totals {
  int passed = 0;
  int failed = 0;
};
Totals& GetTotals() {
  static Totals t;
  return t;
}

class TotalsPrinter : public ::testing::Environment {
 public:
  void TearDown() override {
    std::cout << "promql scripts: " << GetTotals().passed << " passed, "
              << GetTotals().failed << " failed" << std::endl;
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new TotalsPrinter);

class ScriptTest : public ::testing::TestWithParam<ScriptFile> {};

TEST_P(ScriptTest, Passes) {
  const ScriptFile& f = GetParam();
  if (f.path.empty()) {
    GTEST_SKIP() << "no " << f.suite << " scripts found (looked in "
                 << (f.suite == "conformance" ? ConformanceDir()
                                              : "tests/promql")
                 << "); set PANTAU_PROMQL_CONFORMANCE_DIR to run them";
  }
  std::ifstream in(f.path);
  ASSERT_TRUE(in) << "cannot read " << f.path;
  std::stringstream ss;
  ss << in.rdbuf();
  testing::ScriptResult r = testing::RunScript(ss.str());
  GetTotals().passed += r.passed;
  GetTotals().failed += r.failed;
  std::cout << f.suite << "/" << f.name << ".test: " << r.passed << " passed, "
            << r.failed << " failed" << std::endl;
  for (const auto& failure : r.failures) {
    ADD_FAILURE() << f.name << ".test " << failure;
  }
}

INSTANTIATE_TEST_SUITE_P(Scripts, ScriptTest, ::testing::ValuesIn(AllFiles()),
                         [](const ::testing::TestParamInfo<ScriptFile>& info) {
                           return info.param.suite + "_" + info.param.name;
                         });

}  // namespace
}  // namespace pantau::metrics::promql
