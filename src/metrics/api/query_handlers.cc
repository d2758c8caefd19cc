// /api/v1/query, /api/v1/query_range, /api/v1/query_exemplars and
// /api/v1/format_query.
#include <atomic>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "base/strings.h"
#include "metrics/api/handlers.h"
#include "metrics/api/json_writer.h"
#include "metrics/api/params.h"
#include "metrics/promql/parallel.h"
#include "metrics/promql/parser.h"

namespace pantau::metrics::api::internal {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::RequestContext;

// "11,000" from 11000, for the points-per-series message.
std::string WithThousands(int64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  int lead = static_cast<int>(digits.size()) % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (static_cast<int>(i) - lead) % 3 == 0 && digits[i - 1] != '-')
      out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// The optional `timeout` parameter as an absolute deadline (InfiniteFuture
// when absent). The engine's own timeout applies as well.
absl::StatusOr<absl::Time> Deadline(const HttpRequest& req) {
  std::string_view to = req.Param("timeout");
  if (to.empty()) return absl::InfiniteFuture();
  absl::StatusOr<absl::Duration> d = ParseDurationParam(to);
  if (!d.ok()) return InvalidParam(d.status(), "timeout");
  return absl::Now() + *d;
}

size_t MatrixPoints(const promql::Matrix& m) {
  size_t n = 0;
  for (const promql::Series& s : m) n += s.points.size();
  return n;
}

// The response's expected size: a point is [1700000000.5,"123.25"] and
// some, a series' labels rarely more than a few hundred bytes.
size_t ResultSizeHint(const promql::Value& v) {
  if (v.type != promql::ValueType::kMatrix) return 256;
  return 256 + 256 * v.matrix().size() + 32 * MatrixPoints(v.matrix());
}

void WriteSeries(JsonWriter& w, const promql::Series& s) {
  w.BeginObject();
  w.Key("metric");
  w.LabelsObject(s.labels);
  w.Key("values");
  w.BeginArray();
  w.PromPoints(s.points);
  w.EndArray();
  w.EndObject();
}

// Formatting the points is a large share of a range query's response time
// (~46 ns a point, as much as evaluating irate), so from kMinParallelPoints
// on the series are formatted on the query threads, each group of series
// into its own buffer, and the buffers joined in order: the same bytes as
// one thread writes. At 2048 points (~0.1 ms) the hand-off to the kept
// helper threads already pays (the 1 h subquery's 5,061 points: 1.05 ->
// 0.97 ms end to end).
void WriteMatrix(JsonWriter& w, const promql::Matrix& m, int parallelism) {
  constexpr size_t kMinParallelPoints = 2048;
  w.BeginArray();
  const size_t points = MatrixPoints(m);
  const int threads = points >= kMinParallelPoints
                          ? promql::ParallelThreads(parallelism, m.size())
                          : 1;
  if (threads <= 1) {
    for (const promql::Series& s : m) WriteSeries(w, s);
    w.EndArray();
    return;
  }
  // Contiguous groups of about equal points, a few per thread so that an
  // uneven one does not leave the others waiting.
  const size_t want = static_cast<size_t>(threads) * 4;
  const size_t per_group = (points + want - 1) / want;
  std::vector<size_t> group_end;  // series index past each group
  size_t acc = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    acc += m[i].points.size();
    if (acc >= per_group || i + 1 == m.size()) {
      group_end.push_back(i + 1);
      acc = 0;
    }
  }
  std::vector<std::string> parts(group_end.size());
  std::atomic<bool> stop{false};
  // Formatting cannot fail and polls nothing: the status is always OK.
  promql::ParallelFor(
      parts.size(), threads, &stop,
      [&](size_t g, int) {
        size_t begin = g == 0 ? 0 : group_end[g - 1];
        std::string& out = parts[g];
        out.reserve(32 * per_group + 256 * (group_end[g] - begin));
        JsonWriter pw(&out);
        for (size_t i = begin; i < group_end[g]; ++i) WriteSeries(pw, m[i]);
      },
      [] { return absl::OkStatus(); })
      .IgnoreError();
  for (const std::string& part : parts) w.Raw(part);
  w.EndArray();
}

void WriteResult(JsonWriter& w, const promql::Value& v, int parallelism) {
  w.BeginObject();
  w.Key("resultType");
  switch (v.type) {
    // Prometheus marshals scalars and strings with their own MarshalJSON:
    // the time as a JSON float (1700000000.5, not .500) and a scalar's
    // value with FormatFloat 'f' (never an exponent).
    case promql::ValueType::kScalar:
      w.String("scalar");
      w.Key("result");
      w.BeginArray();
      w.Double(static_cast<double>(v.scalar().t) / 1000);
      w.String(FormatGoFloatF(v.scalar().v));
      w.EndArray();
      break;
    case promql::ValueType::kString:
      w.String("string");
      w.Key("result");
      w.BeginArray();
      w.Double(static_cast<double>(v.string().t) / 1000);
      w.String(v.string().v);
      w.EndArray();
      break;
    case promql::ValueType::kVector:
      w.String("vector");
      w.Key("result");
      w.BeginArray();
      for (const promql::VectorSample& s : v.vector()) {
        w.BeginObject();
        w.Key("metric");
        w.LabelsObject(s.labels);
        w.Key("value");
        w.PromPoint(s.t, s.v);
        w.EndObject();
      }
      w.EndArray();
      break;
    case promql::ValueType::kMatrix:
      w.String("matrix");
      w.Key("result");
      WriteMatrix(w, v.matrix(), parallelism);
      break;
    case promql::ValueType::kNone:
      w.Null();
      w.Key("result");
      w.Null();
      break;
  }
  w.EndObject();
}

HttpResponse Run(const ApiDeps& deps, RequestContext& ctx,
                 const promql::Expr& expr, int64_t start, int64_t end,
                 int64_t step_ms, bool instant, absl::Time deadline) {
  promql::QueryContext qc;
  qc.cancelled = [&ctx, deadline] {
    return ctx.Cancelled() ||
           (deadline != absl::InfiniteFuture() && absl::Now() >= deadline);
  };
  absl::StatusOr<promql::QueryResult> r = deps.engine->Exec(
      *deps.queryable, expr, start, end, step_ms, instant, qc);
  if (!r.ok()) {
    bool passed = !ctx.Cancelled() && deadline != absl::InfiniteFuture() &&
                  absl::Now() >= deadline;
    return Error(ExecError(r.status(), passed));
  }
  return Success(
      [&](JsonWriter& w) {
        WriteResult(w, r->value, deps.engine->options().parallelism);
      },
      r->warnings, ResultSizeHint(r->value));
}

}  // namespace

HttpResponse HandleQuery(const ApiDeps& deps, const HttpRequest& req,
                         RequestContext& ctx) {
  absl::StatusOr<int64_t> ts = ParseTimeParam(req, "time", NowMs(deps));
  if (!ts.ok()) return Error(InvalidParam(ts.status(), "time"));
  absl::StatusOr<absl::Time> deadline = Deadline(req);
  if (!deadline.ok()) return Error(deadline.status());
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(req.Param("query"));
  if (!expr.ok()) return Error(InvalidParam(expr.status(), "query"));
  return Run(deps, ctx, **expr, *ts, *ts, 0, true, *deadline);
}

HttpResponse HandleQueryRange(const ApiDeps& deps, const HttpRequest& req,
                              RequestContext& ctx) {
  absl::StatusOr<int64_t> start = ParseTime(req.Param("start"));
  if (!start.ok()) return Error(InvalidParam(start.status(), "start"));
  absl::StatusOr<int64_t> end = ParseTime(req.Param("end"));
  if (!end.ok()) return Error(InvalidParam(end.status(), "end"));
  if (*end < *start) {
    return Error(InvalidParam(
        BadData("end timestamp must not be before start time"), "end"));
  }
  absl::StatusOr<absl::Duration> step = ParseDurationParam(req.Param("step"));
  if (!step.ok()) return Error(InvalidParam(step.status(), "step"));
  if (*step <= absl::ZeroDuration()) {
    return Error(InvalidParam(
        BadData("zero or negative query resolution step widths are not "
                "accepted. Try a positive integer"),
        "step"));
  }
  // As Prometheus: (end - start) / step > limit, in nanoseconds.
  __int128 range_ns = static_cast<__int128>(*end - *start) * 1'000'000;
  __int128 step_ns = absl::ToInt64Nanoseconds(*step);
  if (range_ns / step_ns > deps.limits.max_points_per_series) {
    return Error(BadData(absl::StrCat(
        "exceeded maximum resolution of ",
        WithThousands(deps.limits.max_points_per_series),
        " points per timeseries. Try decreasing the query resolution "
        "(?step=XX)")));
  }
  absl::StatusOr<absl::Time> deadline = Deadline(req);
  if (!deadline.ok()) return Error(deadline.status());
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(req.Param("query"));
  if (!expr.ok()) return Error(BadData(base::StdSv(expr.status().message())));
  promql::ValueType t = (*expr)->type();
  if (t != promql::ValueType::kScalar && t != promql::ValueType::kVector) {
    return Error(BadData(absl::StrCat(
        "invalid expression type \"", base::Sv(promql::ValueTypeName(t)),
        "\" for range query, must be Scalar or instant Vector")));
  }
  // The engine steps in whole milliseconds, as Prometheus's does.
  int64_t step_ms = absl::ToInt64Milliseconds(*step);
  if (step_ms <= 0) {
    return Error(InvalidParam(
        BadData("zero or negative query resolution step widths are not "
                "accepted. Try a positive integer"),
        "step"));
  }
  return Run(deps, ctx, **expr, *start, *end, step_ms, false, *deadline);
}

HttpResponse HandleQueryExemplars(const ApiDeps& deps, const HttpRequest& req,
                                  RequestContext& ctx) {
  absl::StatusOr<int64_t> start = ParseTimeParam(req, "start", kMinTimeMs);
  if (!start.ok()) return Error(InvalidParam(start.status(), "start"));
  absl::StatusOr<int64_t> end = ParseTimeParam(req, "end", kMaxTimeMs);
  if (!end.ok()) return Error(InvalidParam(end.status(), "end"));
  if (*end < *start) {
    return Error(BadData("end timestamp must not be before start timestamp"));
  }
  absl::StatusOr<promql::ExprPtr> expr = promql::ParseExpr(req.Param("query"));
  if (!expr.ok()) return Error(BadData(base::StdSv(expr.status().message())));
  std::vector<const promql::VectorSelector*> selectors =
      promql::CollectSelectors(**expr);
  if (selectors.empty()) {
    return Success([](JsonWriter& w) { w.Null(); });
  }
  std::vector<ExemplarSeries> series;
  if (deps.exemplars != nullptr) {
    std::vector<std::vector<Matcher>> sets;
    sets.reserve(selectors.size());
    for (const promql::VectorSelector* s : selectors)
      sets.push_back(s->matchers);
    absl::StatusOr<std::vector<ExemplarSeries>> r =
        deps.exemplars->SelectExemplars(*start, *end, sets);
    if (!r.ok()) return Error(ExecError(r.status(), false));
    series = *std::move(r);
  }
  if (ctx.Cancelled()) return Error(absl::CancelledError("query was canceled"));
  return Success([&](JsonWriter& w) {
    w.BeginArray();
    for (const ExemplarSeries& s : series) {
      w.BeginObject();
      w.Key("seriesLabels");
      w.LabelsObject(s.series_labels);
      w.Key("exemplars");
      w.BeginArray();
      for (const Exemplar& e : s.exemplars) {
        w.BeginObject();
        w.Key("labels");
        w.LabelsObject(e.labels);
        w.Key("value");
        w.PromValue(e.value);
        w.Key("timestamp");
        w.PromTimestamp(e.t);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  });
}

HttpResponse HandleFormatQuery(const ApiDeps&, const HttpRequest& req,
                               RequestContext&) {
  absl::StatusOr<std::string> q = promql::FormatQuery(req.Param("query"));
  if (!q.ok()) return Error(InvalidParam(q.status(), "query"));
  return Success([&](JsonWriter& w) { w.String(*q); });
}

}  // namespace pantau::metrics::api::internal
