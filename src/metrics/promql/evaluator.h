// The evaluator behind Engine: walks the AST over the steps of a query,
// Prometheus-style. Every vector-valued node evaluates to a Matrix whose
// series hold one point per step where they have a value; selectors load
// their series once for the whole range and are read step by step.
//
// Internal to the promql module. Thread safety: one query, one thread.
#ifndef PANTAU_METRICS_PROMQL_EVALUATOR_H_
#define PANTAU_METRICS_PROMQL_EVALUATOR_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "metrics/promql/ast.h"
#include "metrics/promql/engine.h"
#include "metrics/promql/functions.h"
#include "metrics/promql/value.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::promql {

// State shared by a query and its subqueries.
struct EvalContext {
  Querier* querier = nullptr;
  const EngineOptions* options = nullptr;
  const QueryContext* query = nullptr;
  const base::Clock* clock = nullptr;
  absl::Duration deadline;  // on clock->Monotonic()
  int64_t query_start = 0;  // for @ start() / end()
  int64_t query_end = 0;
  int64_t samples = 0;  // currently held
  uint32_t polls = 0;
  std::vector<std::string> warnings;

  // Charges n samples; fails past max_samples.
  absl::Status Charge(int64_t n);
  void Release(int64_t n) { samples -= n; }
  // Deadline and cancellation, checked every call (cheap).
  absl::Status Poll();
};

// The value of a node over all steps.
struct EvalValue {
  ValueType type = ValueType::kNone;
  Matrix matrix;               // kVector (and kMatrix at the top level)
  std::vector<double> scalar;  // kScalar: one value per step
  std::string str;             // kString
  int64_t Points() const;
};

// Where a range argument (matrix selector or subquery) puts its windows.
struct RangeInput {
  int64_t range_ms = 0;
  int64_t offset_ms = 0;
  bool has_at = false;
  int64_t at_ms = 0;
  bool from_selector = true;
  const VectorSelector* selector = nullptr;  // for absent_over_time labels
};

class Evaluator {
 public:
  Evaluator(EvalContext* ctx, int64_t start, int64_t end, int64_t interval)
      : ctx_(ctx), start_(start), end_(end), interval_(interval) {}

  absl::StatusOr<EvalValue> Eval(const Expr& e);
  // A range-typed expression's raw windows at the (single) step, for
  // instant queries that return a matrix.
  absl::StatusOr<Matrix> EvalRangeAtStart(const Expr& e);

  int64_t start() const { return start_; }
  int64_t end() const { return end_; }
  int64_t interval() const { return interval_; }
  int NumSteps() const {
    return static_cast<int>((end_ - start_) / interval_) + 1;
  }
  EvalContext* ctx() { return ctx_; }

  // Calls `step` for each step with the arguments' values at that step and
  // gathers its output vectors into a matrix. Vector arguments are read
  // from `args` (scalars from `scalars`).
  using StepFn = std::function<absl::Status(
      int step, int64_t ts, std::span<const Vector> vecs, Vector* out)>;
  absl::StatusOr<EvalValue> RangeEval(std::span<const EvalValue* const> args,
                                      const StepFn& step);

  // Computes one output series' points from one input series' points (of
  // a range argument) or samples (of an instant selector). Runs on any
  // thread, concurrently for different series: it must only read shared
  // state.
  using RangeKernel = std::function<absl::Status(std::span<const Point> pts,
                                                 std::vector<Point>* out)>;

 private:
  // One selected series whose samples have not been read yet.
  struct SelectedSeries {
    base::Labels labels;
    std::unique_ptr<SampleIterator> it;
  };
  // Selects the series of `vs` in order; enforces the series limit.
  absl::StatusOr<std::vector<SelectedSeries>> SelectSeries(
      const VectorSelector& vs, int64_t mint, int64_t maxt, int64_t range_ms,
      std::string_view func);
  // Fills *in and runs `kernel` over every series of range argument `e`
  // (matrix selector or subquery), several series at a time; appends the
  // non-empty outputs to *out in series order, with the input's labels
  // (without the metric name unless `keep_name`). Limits, errors and
  // output are those of evaluating the series one after another.
  absl::Status MapRangeSeries(const Expr& e, std::string_view func,
                              RangeInput* in, const RangeKernel& kernel,
                              bool keep_name, Matrix* out);
  // Evaluates a subquery's inner expression over its own steps; leaves *v
  // empty when no inner step falls in the range. The points stay charged.
  absl::Status EvalSubquery(const SubqueryExpr& sq, const RangeInput* in,
                            EvalValue* v);
  absl::StatusOr<EvalValue> EvalSelector(const VectorSelector& vs,
                                         bool want_timestamps);
  // Selects the series of `vs` and hands each, with an iterator over its
  // samples, to `fn`; enforces the series limit.
  using SeriesFn =
      std::function<absl::Status(const base::Labels&, SampleIterator&)>;
  absl::Status ForEachSeries(const VectorSelector& vs, int64_t mint,
                             int64_t maxt, int64_t range_ms,
                             std::string_view func, const SeriesFn& fn);
  // Fills *in and hands each series of a range argument to `fn` with its
  // points (sorted, no stale markers) covering every step's window. The
  // points are valid only during the call.
  using RangeSeriesFn = std::function<absl::Status(const base::Labels&,
                                                   const std::vector<Point>&)>;
  absl::Status ForEachRangeSeries(const Expr& e, std::string_view func,
                                  RangeInput* in, const RangeSeriesFn& fn);
  absl::StatusOr<EvalValue> EvalCall(const Call& c);
  absl::StatusOr<EvalValue> EvalRangeCall(const Call& c, int range_arg);
  absl::StatusOr<EvalValue> EvalBinary(const BinaryExpr& b);
  absl::StatusOr<EvalValue> EvalAggregate(const AggregateExpr& a);
  int64_t AtTime(AtKind kind, int64_t ms) const;
  // A range argument that is not a matrix selector must be a subquery:
  // fills `in` from it and evaluates it into *out.
  absl::Status EvalRangeSubquery(const Expr& e, RangeInput* in, EvalValue* out);
  // Fills `in` from a matrix selector; returns the [mint, maxt] to select.
  std::pair<int64_t, int64_t> SetRangeInput(const MatrixSelector& ms,
                                            RangeInput* in) const;

  EvalContext* ctx_;
  int64_t start_, end_, interval_;
};

// Per-step kernels (binary_ops.cc, aggregations.cc).
absl::Status VectorBinop(const BinaryExpr& b, const Vector& lhs,
                         const Vector& rhs, Vector* out);
void VectorScalarBinop(const BinaryExpr& b, const Vector& vec, double scalar,
                       bool scalar_on_left, Vector* out);
double ScalarBinop(Op op, double lhs, double rhs);
absl::Status AggregateStep(const AggregateExpr& a, const Vector& in,
                           double param, std::string_view str_param,
                           Vector* out);
bool ContainsSameLabelset(const Vector& v);
// Series-wise fast paths; false when they don't apply (the caller then
// takes the step-wise path).
bool AggregateSeriesWise(const AggregateExpr& a, const Matrix& in,
                         int64_t start, int64_t interval, int steps,
                         Matrix* out);
// topk/bottomk with `params` the k of each step.
bool TopkSeriesWise(const AggregateExpr& a, const Matrix& in,
                    const std::vector<double>& params, int64_t start,
                    int64_t interval, int steps, Matrix* out);
bool VectorVectorSeriesWise(const BinaryExpr& b, const Matrix& lhs,
                            const Matrix& rhs, Matrix* out);
bool VectorScalarSeriesWise(const BinaryExpr& b, Matrix* m,
                            const std::vector<double>& scalar,
                            bool scalar_on_left, int64_t start,
                            int64_t interval);
bool HistogramQuantileSeriesWise(const std::vector<double>& q, const Matrix& in,
                                 int64_t start, int64_t interval, int steps,
                                 Matrix* out);
// Whether relabeling series to `labels` keeps them distinct.
bool AllDistinct(const std::vector<base::Labels>& labels);
// Prometheus's quantile over values (sorted in place).
double Quantile(double q, std::vector<double>* values);
// Neumaier-compensated summation step.
inline void KahanAdd(double inc, double* sum, double* c) {
  double t = *sum + inc;
  if ((*sum >= 0 ? *sum : -*sum) >= (inc >= 0 ? inc : -inc)) {
    *c += (*sum - t) + inc;
  } else {
    *c += (inc - t) + *sum;
  }
  *sum = t;
}

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_EVALUATOR_H_
