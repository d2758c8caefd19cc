#include "metrics/promql/engine.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "metrics/promql/evaluator.h"
#include "metrics/promql/parser.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {
namespace {

// The time range any selector under `e` may read, so the store can open
// only the blocks it needs.
void TimeBounds(const Expr& e, int64_t start, int64_t end, int64_t lookback,
                int64_t q_start, int64_t q_end, int64_t* mint, int64_t* maxt) {
  auto at_time = [&](AtKind k, int64_t ms) {
    return k == AtKind::kStart ? q_start : k == AtKind::kEnd ? q_end : ms;
  };
  switch (e.kind) {
    case NodeKind::kVectorSelector: {
      auto& vs = static_cast<const VectorSelector&>(e);
      int64_t s = vs.at != AtKind::kNone ? at_time(vs.at, vs.at_ms) : start;
      int64_t en = vs.at != AtKind::kNone ? at_time(vs.at, vs.at_ms) : end;
      *mint = std::min(*mint, s - vs.offset_ms - lookback);
      *maxt = std::max(*maxt, en - vs.offset_ms);
      return;
    }
    case NodeKind::kMatrixSelector: {
      auto& ms = static_cast<const MatrixSelector&>(e);
      const VectorSelector& vs = ms.selector();
      int64_t s = vs.at != AtKind::kNone ? at_time(vs.at, vs.at_ms) : start;
      int64_t en = vs.at != AtKind::kNone ? at_time(vs.at, vs.at_ms) : end;
      *mint = std::min(*mint, s - vs.offset_ms - ms.range_ms);
      *maxt = std::max(*maxt, en - vs.offset_ms);
      return;
    }
    case NodeKind::kSubquery: {
      auto& sq = static_cast<const SubqueryExpr&>(e);
      int64_t s = sq.at != AtKind::kNone ? at_time(sq.at, sq.at_ms) : start;
      int64_t en = sq.at != AtKind::kNone ? at_time(sq.at, sq.at_ms) : end;
      TimeBounds(*sq.expr, s - sq.offset_ms - sq.range_ms, en - sq.offset_ms,
                 lookback, q_start, q_end, mint, maxt);
      return;
    }
    case NodeKind::kParen:
      TimeBounds(*static_cast<const ParenExpr&>(e).expr, start, end, lookback,
                 q_start, q_end, mint, maxt);
      return;
    case NodeKind::kUnary:
      TimeBounds(*static_cast<const UnaryExpr&>(e).expr, start, end, lookback,
                 q_start, q_end, mint, maxt);
      return;
    case NodeKind::kBinary:
      TimeBounds(*static_cast<const BinaryExpr&>(e).lhs, start, end, lookback,
                 q_start, q_end, mint, maxt);
      TimeBounds(*static_cast<const BinaryExpr&>(e).rhs, start, end, lookback,
                 q_start, q_end, mint, maxt);
      return;
    case NodeKind::kCall:
      for (const auto& a : static_cast<const Call&>(e).args) {
        TimeBounds(*a, start, end, lookback, q_start, q_end, mint, maxt);
      }
      return;
    case NodeKind::kAggregate:
      TimeBounds(*static_cast<const AggregateExpr&>(e).expr, start, end,
                 lookback, q_start, q_end, mint, maxt);
      return;
    default:
      return;
  }
}

}  // namespace

absl::StatusOr<QueryResult> Engine::InstantQuery(
    Queryable& queryable, std::string_view query, int64_t ts_ms,
    const QueryContext& ctx) const {
  PANTAU_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query));
  return Exec(queryable, *expr, ts_ms, ts_ms, 0, true, ctx);
}

absl::StatusOr<QueryResult> Engine::RangeQuery(Queryable& queryable,
                                               std::string_view query,
                                               int64_t start_ms, int64_t end_ms,
                                               int64_t step_ms,
                                               const QueryContext& ctx) const {
  if (step_ms <= 0) {
    return absl::InvalidArgumentError(
        "zero or negative query resolution step widths are not accepted. "
        "Try a positive integer");
  }
  if (end_ms < start_ms) {
    return absl::InvalidArgumentError(
        "end timestamp must not be before start time");
  }
  PANTAU_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query));
  ValueType t = expr->type();
  if (t != ValueType::kScalar && t != ValueType::kVector) {
    return absl::InvalidArgumentError(
        Cat("invalid expression type \"", ValueTypeName(t),
            "\" for range query, must be Scalar or instant Vector"));
  }
  return Exec(queryable, *expr, start_ms, end_ms, step_ms, false, ctx);
}

absl::StatusOr<QueryResult> Engine::Exec(Queryable& queryable, const Expr& expr,
                                         int64_t start_ms, int64_t end_ms,
                                         int64_t step_ms, bool instant,
                                         const QueryContext& qctx) const {
  if (!instant && (step_ms <= 0 || end_ms < start_ms)) {
    return absl::InvalidArgumentError(
        "a range query needs a positive step and end >= start");
  }
  int64_t mint = std::numeric_limits<int64_t>::max() / 2;
  int64_t maxt = std::numeric_limits<int64_t>::min() / 2;
  TimeBounds(expr, start_ms, end_ms, options_.lookback_delta_ms, start_ms,
             end_ms, &mint, &maxt);
  if (mint > maxt) mint = maxt = start_ms;
  PANTAU_ASSIGN_OR_RETURN(std::unique_ptr<Querier> querier,
                          queryable.NewQuerier(mint, maxt));
  EvalContext ctx;
  ctx.querier = querier.get();
  ctx.options = &options_;
  ctx.query = &qctx;
  ctx.clock = options_.clock != nullptr ? options_.clock : base::Clock::Real();
  ctx.deadline = ctx.clock->Monotonic() + options_.timeout;
  ctx.query_start = start_ms;
  ctx.query_end = end_ms;
  int64_t interval = instant ? 1 : step_ms;
  if (instant) end_ms = start_ms;
  if (!instant && (end_ms - start_ms) / step_ms + 1 > options_.max_samples) {
    return absl::ResourceExhaustedError(
        "query processing would load too many samples into memory in query "
        "execution");
  }
  Evaluator ev(&ctx, start_ms, end_ms, interval);
  QueryResult result;
  ValueType type = expr.type();
  if (type == ValueType::kMatrix) {
    if (!instant) {
      return absl::InvalidArgumentError(
          "invalid expression type \"range vector\" for range query, must be "
          "Scalar or instant Vector");
    }
    PANTAU_ASSIGN_OR_RETURN(Matrix m, ev.EvalRangeAtStart(expr));
    result.value.type = ValueType::kMatrix;
    result.value.data = std::move(m);
    result.warnings = std::move(ctx.warnings);
    return result;
  }
  PANTAU_ASSIGN_OR_RETURN(EvalValue v, ev.Eval(expr));
  result.warnings = std::move(ctx.warnings);
  if (type == ValueType::kString) {
    result.value.type = ValueType::kString;
    result.value.data = String{start_ms, std::move(v.str)};
    return result;
  }
  if (instant) {
    if (type == ValueType::kScalar) {
      result.value.type = ValueType::kScalar;
      result.value.data = Scalar{start_ms, v.scalar.empty() ? 0 : v.scalar[0]};
      return result;
    }
    Vector vec;
    vec.reserve(v.matrix.size());
    for (Series& s : v.matrix) {
      if (s.points.empty()) continue;
      vec.push_back(VectorSample{std::move(s.labels), start_ms, s.points[0].v});
    }
    result.value.type = ValueType::kVector;
    result.value.data = std::move(vec);
    return result;
  }
  Matrix m;
  if (type == ValueType::kScalar) {
    Series s;
    for (size_t i = 0; i < v.scalar.size(); ++i) {
      s.points.push_back(
          Point{start_ms + static_cast<int64_t>(i) * step_ms, v.scalar[i]});
    }
    m.push_back(std::move(s));
  } else {
    m = std::move(v.matrix);
    std::sort(m.begin(), m.end(), [](const Series& a, const Series& b) {
      return a.labels < b.labels;
    });
  }
  result.value.type = ValueType::kMatrix;
  result.value.data = std::move(m);
  return result;
}

std::string_view ErrorType(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return "";
    case absl::StatusCode::kInvalidArgument:
      return "bad_data";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kCancelled:
      return "canceled";
    default:
      return "execution";
  }
}

absl::StatusOr<std::string> FormatQuery(std::string_view query) {
  PANTAU_ASSIGN_OR_RETURN(ExprPtr expr, ParseExpr(query));
  return expr->Pretty(0);
}

}  // namespace pantau::metrics::promql
