// Function calls: range-vector functions are evaluated series by series over
// sliding windows of preloaded samples; the rest step by step.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "metrics/promql/evaluator.h"

namespace pantau::metrics::promql {
namespace {

const Expr& Unparen(const Expr& e) {
  const Expr* p = &e;
  while (p->kind == NodeKind::kParen) {
    p = static_cast<const ParenExpr*>(p)->expr.get();
  }
  return *p;
}

// Labels absent()/absent_over_time() give their output: the equality
// matchers of the selector, except __name__ and names matched twice.
base::Labels AbsentLabels(const VectorSelector* vs) {
  if (vs == nullptr) return {};
  base::LabelsBuilder b;
  std::vector<std::string> seen;
  for (const Matcher& m : vs->matchers) {
    if (m.name() == base::kMetricName) continue;
    bool dup = std::find(seen.begin(), seen.end(), m.name()) != seen.end();
    if (m.type() == MatchType::kEqual && !dup) {
      b.Set(m.name(), m.value());
    } else {
      b.Del(m.name());
    }
    seen.push_back(m.name());
  }
  return b.Build();
}

}  // namespace

absl::StatusOr<EvalValue> Evaluator::EvalCall(const Call& c) {
  const FunctionDef& f = *c.func;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (c.args[i]->type() == ValueType::kMatrix) {
      return EvalRangeCall(c, static_cast<int>(i));
    }
  }
  if (f.name == "timestamp" &&
      Unparen(*c.args[0]).kind == NodeKind::kVectorSelector) {
    // The sample's own timestamp, which step-aligned points no longer carry.
    PANTAU_ASSIGN_OR_RETURN(
        EvalValue v,
        EvalSelector(static_cast<const VectorSelector&>(Unparen(*c.args[0])),
                     true));
    for (Series& s : v.matrix) s.labels = DropMetricName(s.labels);
    return v;
  }
  if (f.elementwise != nullptr && c.args.size() == 1) {
    PANTAU_ASSIGN_OR_RETURN(EvalValue v, Eval(*c.args[0]));
    std::vector<base::Labels> labels;
    labels.reserve(v.matrix.size());
    for (const Series& s : v.matrix) labels.push_back(DropMetricName(s.labels));
    // Series that collide once renamed must fail only at steps where both
    // have a value: the step-wise path below knows that.
    if (AllDistinct(labels)) {
      for (size_t k = 0; k < v.matrix.size(); ++k) {
        v.matrix[k].labels = std::move(labels[k]);
        for (Point& p : v.matrix[k].points) p.v = f.elementwise(p.v);
      }
      return v;
    }
    ctx_->Release(v.Points());
  }
  if (f.name == "histogram_quantile") {
    PANTAU_ASSIGN_OR_RETURN(EvalValue q, Eval(*c.args[0]));
    PANTAU_ASSIGN_OR_RETURN(EvalValue v, Eval(*c.args[1]));
    EvalValue out;
    out.type = ValueType::kVector;
    if (HistogramQuantileSeriesWise(q.scalar, v.matrix, start_, interval_,
                                    NumSteps(), &out.matrix)) {
      PANTAU_RETURN_IF_ERROR(ctx_->Charge(out.Points()));
      ctx_->Release(q.Points() + v.Points());
      return out;
    }
    ctx_->Release(q.Points() + v.Points());
  }
  std::vector<EvalValue> vals(c.args.size());
  std::vector<const EvalValue*> ptrs;
  for (size_t i = 0; i < c.args.size(); ++i) {
    PANTAU_ASSIGN_OR_RETURN(vals[i], Eval(*c.args[i]));
    ptrs.push_back(&vals[i]);
  }
  std::vector<ArgValue> args(c.args.size());
  if (f.name == "absent") {
    const Expr& a = Unparen(*c.args[0]);
    base::Labels labels =
        AbsentLabels(a.kind == NodeKind::kVectorSelector
                         ? static_cast<const VectorSelector*>(&a)
                         : nullptr);
    return RangeEval(
        ptrs, [&](int, int64_t ts, std::span<const Vector> v, Vector* o) {
          if (v[0].empty()) o->push_back(VectorSample{labels, ts, 1});
          return absl::OkStatus();
        });
  }
  absl::StatusOr<EvalValue> out = RangeEval(
      ptrs, [&](int i, int64_t ts, std::span<const Vector> v, Vector* o) {
        for (size_t k = 0; k < args.size(); ++k) {
          args[k].type = vals[k].type;
          switch (vals[k].type) {
            case ValueType::kScalar:
              args[k].scalar = vals[k].scalar[i];
              break;
            case ValueType::kString:
              args[k].str = vals[k].str;
              break;
            case ValueType::kVector:
              args[k].vector = &v[k];
              break;
            default:
              break;
          }
        }
        CallContext cc;
        cc.ts = ts;
        cc.call = &c;
        cc.args = args;
        return f.vector_fn(cc, o);
      });
  for (const EvalValue& v : vals) ctx_->Release(v.Points());
  if (!out.ok() || f.return_type != ValueType::kScalar) return out;
  // Scalar-returning functions yield one unlabeled sample per step.
  EvalValue s;
  s.type = ValueType::kScalar;
  s.scalar.assign(NumSteps(), NAN);
  for (const Series& series : out->matrix) {
    for (const Point& p : series.points) {
      s.scalar[(p.t - start_) / interval_] = p.v;
    }
  }
  ctx_->Release(out->Points());
  return s;
}

absl::StatusOr<EvalValue> Evaluator::EvalRangeCall(const Call& c,
                                                   int range_arg) {
  const FunctionDef& f = *c.func;
  std::vector<EvalValue> scalars;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (static_cast<int>(i) == range_arg) continue;
    PANTAU_ASSIGN_OR_RETURN(EvalValue v, Eval(*c.args[i]));
    scalars.push_back(std::move(v));
  }
  const int n = NumSteps();
  EvalValue out;
  out.type = ValueType::kVector;
  RangeInput in;

  if (f.name == "absent_over_time") {
    std::vector<bool> present(n, false);
    PANTAU_RETURN_IF_ERROR(ForEachRangeSeries(
        *c.args[range_arg], f.name, &in,
        [&](const base::Labels&, const std::vector<Point>& pts) {
          size_t lo = 0, hi = 0;
          for (int i = 0; i < n; ++i) {
            int64_t ts = start_ + static_cast<int64_t>(i) * interval_;
            int64_t ref = (in.has_at ? in.at_ms : ts) - in.offset_ms;
            while (lo < pts.size() && pts[lo].t < ref - in.range_ms) ++lo;
            hi = std::max(hi, lo);
            while (hi < pts.size() && pts[hi].t <= ref) ++hi;
            if (hi > lo) present[i] = true;
          }
          return absl::OkStatus();
        }));
    Series res{AbsentLabels(in.selector), {}};
    for (int i = 0; i < n; ++i) {
      if (!present[i]) {
        res.points.push_back(
            Point{start_ + static_cast<int64_t>(i) * interval_, 1});
      }
    }
    if (!res.points.empty()) out.matrix.push_back(std::move(res));
    return out;
  }

  // The kernel runs on several threads at once: it reads only `in`,
  // `scalars` and its arguments.
  auto kernel = [&](std::span<const Point> pts,
                    std::vector<Point>* res) -> absl::Status {
    RangeWindow w;
    w.from_selector = in.from_selector;
    // Windows of successive steps overlap (a 5m rate every 15s sees each
    // sample 20 times); counting resets once per series lets rate skip
    // its per-window reset scan where there are none. Exact: the scan
    // adds nothing then.
    thread_local std::vector<uint32_t> resets;
    if (f.uses_resets) {
      resets.resize(pts.size());
      uint32_t count = 0;
      for (size_t i = 0; i < pts.size(); ++i) {
        if (i > 0 && pts[i].v < pts[i - 1].v) ++count;
        resets[i] = count;
      }
    }
    // For max/min_over_time: indices of the window's non-NaN values that
    // could still be its extreme, best first (a monotonic queue from
    // dq_head on). Windows only move forward, so each value enters and
    // leaves once.
    thread_local std::vector<size_t> dq;
    dq.clear();
    size_t dq_head = 0;
    size_t queued = 0;  // values before this index have been considered
    const int sign = f.sliding_extreme;
    auto beats = [sign](double a, double b) {
      return sign > 0 ? a > b : a < b;
    };
    size_t lo = 0, hi = 0;
    for (int i = 0; i < n; ++i) {
      int64_t ts = start_ + static_cast<int64_t>(i) * interval_;
      int64_t ref = (in.has_at ? in.at_ms : ts) - in.offset_ms;
      while (lo < pts.size() && pts[lo].t < ref - in.range_ms) ++lo;
      hi = std::max(hi, lo);
      while (hi < pts.size() && pts[hi].t <= ref) ++hi;
      if (hi == lo) continue;
      if (sign != 0) {
        for (queued = std::max(queued, lo); queued < hi; ++queued) {
          double x = pts[queued].v;
          if (std::isnan(x)) continue;
          // Strictly beaten values go: of equals the earliest stays first.
          while (dq.size() > dq_head && beats(x, pts[dq.back()].v)) {
            dq.pop_back();
          }
          dq.push_back(queued);
        }
        while (dq_head < dq.size() && dq[dq_head] < lo) ++dq_head;
        // Only NaN in the window: the scan would end on its last value.
        double v = dq_head < dq.size() ? pts[dq[dq_head]].v : pts[hi - 1].v;
        res->push_back(Point{ts, v});
        continue;
      }
      w.points = pts.subspan(lo, hi - lo);
      if (f.uses_resets) w.may_have_resets = resets[hi - 1] != resets[lo];
      w.start = ref - in.range_ms;
      w.end = ref;
      w.ts = ts;
      for (size_t k = 0; k < scalars.size() && k < 2; ++k) {
        w.params[k] = scalars[k].scalar[i];
      }
      double v = 0;
      bool has = false;
      PANTAU_RETURN_IF_ERROR(f.range_fn(w, &v, &has));
      if (has) res->push_back(Point{ts, v});
    }
    return absl::OkStatus();
  };
  PANTAU_RETURN_IF_ERROR(MapRangeSeries(*c.args[range_arg], f.name, &in, kernel,
                                        f.keeps_metric_name, &out.matrix));
  for (const EvalValue& v : scalars) ctx_->Release(v.Points());
  // Dropping the metric name can make two series one.
  if (!f.keeps_metric_name && out.matrix.size() > 1) {
    std::vector<const std::string*> ls;
    for (const Series& s : out.matrix) ls.push_back(&s.labels.data());
    std::sort(ls.begin(), ls.end(), [](auto* a, auto* b) { return *a < *b; });
    for (size_t i = 1; i < ls.size(); ++i) {
      if (*ls[i] == *ls[i - 1]) {
        return ExecutionError(
            "vector cannot contain metrics with the same labelset");
      }
    }
  }
  return out;
}

}  // namespace pantau::metrics::promql
