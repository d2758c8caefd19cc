// Runs PromQL test scripts in Prometheus's format (load, clear, eval
// instant at, eval_ordered, eval_fail; see
// ../shared/conformance/promql/README.md). Like Prometheus's own runner
// it re-runs every instant case as a range query around the evaluation
// time and with every selector pinned by `@` to it.
//
// Thread safety: RunScript is reentrant.
#ifndef PANTAU_METRICS_PROMQL_TESTING_SCRIPT_H_
#define PANTAU_METRICS_PROMQL_TESTING_SCRIPT_H_

#include <string>
#include <string_view>
#include <vector>

namespace pantau::metrics::promql::testing {

struct ScriptResult {
  int passed = 0;
  int failed = 0;
  // "line N: <query>: <what went wrong>" per failed case, plus script
  // syntax errors.
  std::vector<std::string> failures;
};

ScriptResult RunScript(std::string_view content);

}  // namespace pantau::metrics::promql::testing

#endif  // PANTAU_METRICS_PROMQL_TESTING_SCRIPT_H_
