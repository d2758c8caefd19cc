// The PromQL function table. Each family lives in its own file
// (functions_*.cc) and adds itself through one Register* function; the
// table is built once, from functions.cc.
//
// Thread safety: the table is immutable once built; lookups are safe from
// any thread.
#ifndef PANTAU_METRICS_PROMQL_FUNCTIONS_H_
#define PANTAU_METRICS_PROMQL_FUNCTIONS_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "metrics/promql/ast.h"
#include "metrics/promql/value.h"

namespace pantau::metrics::promql {

// One series' samples inside a range function's window at one step.
struct RangeWindow {
  std::span<const Point> points;
  int64_t start = 0;  // window bounds in ms; `end` is the evaluation time
  int64_t end = 0;    // after offset/@
  double params[2] = {0, 0};  // the function's scalar arguments, in order
  int64_t ts = 0;             // the step's evaluation time
  bool from_selector = true;  // a matrix selector rather than a subquery
  // False when the caller knows no value in `points` drops below its
  // predecessor (no counter reset), so rate/increase can skip their scan.
  bool may_have_resets = true;
};
// Sets *has when the series yields a value at this step; an error ends the
// query (e.g. holt_winters' factors out of range).
using RangeFunc = absl::Status (*)(const RangeWindow& w, double* out,
                                   bool* has);

// One argument of an instant-style call at one step.
struct ArgValue {
  ValueType type = ValueType::kNone;
  const Vector* vector = nullptr;
  double scalar = 0;
  std::string_view str;
};

struct CallContext {
  int64_t ts = 0;  // evaluation time of this step, ms
  const Call* call = nullptr;
  std::span<const ArgValue> args;
};
// Appends the step's output to *out. Errors end the query.
using VectorFunc = absl::Status (*)(const CallContext& ctx, Vector* out);

struct FunctionDef {
  std::string name;
  std::vector<ValueType> arg_types;
  // 0: exactly arg_types; n > 0: the last n may be omitted; -1: the last
  // type repeats any number of times (label_join).
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  VectorFunc vector_fn = nullptr;  // instant-style
  RangeFunc range_fn = nullptr;    // per series over a range argument
  bool keeps_metric_name = false;  // e.g. last_over_time
  // Reads RangeWindow::may_have_resets (rate, increase): the evaluator
  // then counts resets once per series instead of once per window.
  bool uses_resets = false;
  // max_over_time (+1) and min_over_time (-1): the evaluator keeps the
  // window's extreme across steps (windows of successive steps overlap;
  // a 1h window every 15 s scanned each value 240 times) and range_fn is
  // not called. Same result as range_fn: NaN is skipped unless the window
  // holds nothing else, and of equal values (0 and -0) the earliest wins.
  int sliding_extreme = 0;
  // For functions that map each value on its own and drop the name (abs,
  // ln, ...): lets the evaluator work series by series.
  double (*elementwise)(double) = nullptr;
};

// nullptr when there is no such function.
const FunctionDef* FindFunction(std::string_view name);

// Registration hooks, one per family file.
using FunctionTable = std::vector<FunctionDef>;
void RegisterRateFunctions(FunctionTable* t);
void RegisterOverTimeFunctions(FunctionTable* t);
void RegisterMathFunctions(FunctionTable* t);
void RegisterLabelFunctions(FunctionTable* t);
void RegisterTimeFunctions(FunctionTable* t);
void RegisterHistogramFunctions(FunctionTable* t);
void RegisterMiscFunctions(FunctionTable* t);

// A failure while evaluating (not parsing) a query: Prometheus's
// errorType "execution" rather than "bad_data".
inline absl::Status ExecutionError(std::string_view msg) {
  return absl::UnknownError(absl::string_view(msg.data(), msg.size()));
}

// Shared helpers for function families.
base::Labels DropMetricName(const base::Labels& l);

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_FUNCTIONS_H_
