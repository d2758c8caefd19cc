#include "metrics/promql/evaluator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "metrics/promql/parallel.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {

absl::Status EvalContext::Charge(int64_t n) {
  samples += n;
  if (options->max_samples > 0 && samples > options->max_samples) {
    return absl::ResourceExhaustedError(
        "query processing would load too many samples into memory in query "
        "execution");
  }
  return absl::OkStatus();
}

absl::Status EvalContext::Poll() {
  // The clock and the caller's token are cheap but not free; every 64th
  // poll is often enough to stop within milliseconds.
  if ((polls++ & 63) != 0) return absl::OkStatus();
  if (query != nullptr && query->cancelled && query->cancelled()) {
    return absl::CancelledError("query was canceled");
  }
  if (clock->Monotonic() >= deadline) {
    return absl::DeadlineExceededError("query timed out in query execution");
  }
  return absl::OkStatus();
}

int64_t EvalValue::Points() const {
  int64_t n = static_cast<int64_t>(scalar.size());
  for (const Series& s : matrix) n += static_cast<int64_t>(s.points.size());
  return n;
}

int64_t Evaluator::AtTime(AtKind kind, int64_t ms) const {
  switch (kind) {
    case AtKind::kStart:
      return ctx_->query_start;
    case AtKind::kEnd:
      return ctx_->query_end;
    default:
      return ms;
  }
}

std::pair<int64_t, int64_t> Evaluator::SetRangeInput(const MatrixSelector& ms,
                                                     RangeInput* in) const {
  const VectorSelector& vs = ms.selector();
  in->range_ms = ms.range_ms;
  in->offset_ms = vs.offset_ms;
  in->has_at = vs.at != AtKind::kNone;
  in->at_ms = AtTime(vs.at, vs.at_ms);
  in->selector = &vs;
  const int64_t base_min = in->has_at ? in->at_ms : start_;
  const int64_t base_max = in->has_at ? in->at_ms : end_;
  return {base_min - vs.offset_ms - ms.range_ms, base_max - vs.offset_ms};
}

absl::Status Evaluator::EvalRangeSubquery(const Expr& e, RangeInput* in,
                                          EvalValue* out) {
  if (e.kind != NodeKind::kSubquery) {
    return ExecutionError("expected a range vector");
  }
  const auto& sq = static_cast<const SubqueryExpr&>(e);
  in->range_ms = sq.range_ms;
  in->offset_ms = sq.offset_ms;
  in->has_at = sq.at != AtKind::kNone;
  in->at_ms = AtTime(sq.at, sq.at_ms);
  in->from_selector = false;
  return EvalSubquery(sq, in, out);
}

namespace {

const Expr& Unparen(const Expr& e) {
  const Expr* p = &e;
  while (p->kind == NodeKind::kParen) {
    p = static_cast<const ParenExpr*>(p)->expr.get();
  }
  return *p;
}

bool MatrixHasSameLabelset(const Matrix& m) {
  if (m.size() < 2) return false;
  std::vector<const base::Labels*> ls;
  ls.reserve(m.size());
  for (const Series& s : m) ls.push_back(&s.labels);
  std::sort(ls.begin(), ls.end(),
            [](const base::Labels* a, const base::Labels* b) {
              return a->data() < b->data();
            });
  for (size_t i = 1; i < ls.size(); ++i) {
    if (*ls[i] == *ls[i - 1]) return true;
  }
  return false;
}

absl::Status SameLabelsetError() {
  return ExecutionError("vector cannot contain metrics with the same labelset");
}

}  // namespace

bool ContainsSameLabelset(const Vector& v) {
  if (v.size() < 2) return false;
  if (v.size() == 2) return v[0].labels == v[1].labels;
  std::vector<const std::string*> ls;
  ls.reserve(v.size());
  for (const VectorSample& s : v) ls.push_back(&s.labels.data());
  std::sort(ls.begin(), ls.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (size_t i = 1; i < ls.size(); ++i) {
    if (*ls[i] == *ls[i - 1]) return true;
  }
  return false;
}

absl::StatusOr<EvalValue> Evaluator::Eval(const Expr& e) {
  PANTAU_RETURN_IF_ERROR(ctx_->Poll());
  const int n = NumSteps();
  switch (e.kind) {
    case NodeKind::kNumber: {
      PANTAU_RETURN_IF_ERROR(ctx_->Charge(n));
      EvalValue v;
      v.type = ValueType::kScalar;
      v.scalar.assign(n, static_cast<const NumberLiteral&>(e).value);
      return v;
    }
    case NodeKind::kString: {
      EvalValue v;
      v.type = ValueType::kString;
      v.str = static_cast<const StringLiteral&>(e).value;
      return v;
    }
    case NodeKind::kParen:
      return Eval(*static_cast<const ParenExpr&>(e).expr);
    case NodeKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(e);
      PANTAU_ASSIGN_OR_RETURN(EvalValue v, Eval(*u.expr));
      if (u.op == Op::kAdd) return v;  // unary plus changes nothing
      for (double& d : v.scalar) d = -d;
      for (Series& s : v.matrix) {
        s.labels = DropMetricName(s.labels);
        for (Point& p : s.points) p.v = -p.v;
      }
      if (MatrixHasSameLabelset(v.matrix)) return SameLabelsetError();
      return v;
    }
    case NodeKind::kVectorSelector:
      return EvalSelector(static_cast<const VectorSelector&>(e), false);
    case NodeKind::kMatrixSelector:
    case NodeKind::kSubquery:
      return ExecutionError(
          "range vector cannot be evaluated as an instant value");
    case NodeKind::kCall:
      return EvalCall(static_cast<const Call&>(e));
    case NodeKind::kBinary:
      return EvalBinary(static_cast<const BinaryExpr&>(e));
    case NodeKind::kAggregate:
      return EvalAggregate(static_cast<const AggregateExpr&>(e));
  }
  return absl::InternalError("unknown node");
}

absl::Status Evaluator::ForEachSeries(const VectorSelector& vs, int64_t mint,
                                      int64_t maxt, int64_t range_ms,
                                      std::string_view func,
                                      const SeriesFn& fn) {
  PANTAU_ASSIGN_OR_RETURN(std::vector<SelectedSeries> series,
                          SelectSeries(vs, mint, maxt, range_ms, func));
  for (SelectedSeries& s : series) {
    PANTAU_RETURN_IF_ERROR(ctx_->Poll());
    PANTAU_RETURN_IF_ERROR(fn(s.labels, *s.it));
    PANTAU_RETURN_IF_ERROR(s.it->status());
    s.it.reset();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Evaluator::SelectedSeries>> Evaluator::SelectSeries(
    const VectorSelector& vs, int64_t mint, int64_t maxt, int64_t range_ms,
    std::string_view func) {
  SelectHints hints;
  hints.start = mint;
  hints.end = maxt;
  hints.step = interval_;
  hints.range = range_ms;
  hints.func = std::string(func);
  const int64_t max_series = ctx_->options->max_series;
  if (max_series > 0) hints.limit = static_cast<size_t>(max_series) + 1;
  std::unique_ptr<SeriesSet> set =
      ctx_->querier->Select(true, &hints, vs.matchers);
  std::vector<SelectedSeries> out;
  while (set->Next()) {
    PANTAU_RETURN_IF_ERROR(ctx_->Poll());
    if (max_series > 0 && static_cast<int64_t>(out.size()) >= max_series) {
      return absl::ResourceExhaustedError(
          Cat("query selects more than ", max_series,
              " series (limit --query.max-series)"));
    }
    // The iterator does not depend on the set's position (both stores
    // hand out self-contained iterators), so series can be read later and
    // on other threads.
    const metrics::Series& s = set->At();
    out.push_back(SelectedSeries{s.labels(), s.Iterator()});
  }
  PANTAU_RETURN_IF_ERROR(set->status());
  for (std::string& w : set->Warnings()) ctx_->warnings.push_back(std::move(w));
  return out;
}

namespace {

// One series' output, computed on a worker thread and committed (charged,
// appended) on the query's thread in series order.
struct SeriesResult {
  base::Labels labels;
  std::vector<Point> points;
  int64_t held = 0;          // input samples held while computing
  absl::Status status;       // the kernel's
  absl::Status read_status;  // the sample iterator's
  bool done = false;
};

// Computes results[i] for every i, in parallel where it pays. `compute`
// returns false to stop the others early (an error, or past the sample
// budget); results it never reached are computed on this thread by
// `finish`, so the caller can commit strictly in order.
absl::Status ComputeAll(
    EvalContext* ctx, std::vector<SeriesResult>* results,
    const std::function<bool(size_t i, int worker, SeriesResult* r)>& compute) {
  const size_t n = results->size();
  const int threads = ParallelThreads(ctx->options->parallelism, n);
  std::atomic<bool> stop{false};
  PANTAU_RETURN_IF_ERROR(ParallelFor(
      n, threads, &stop,
      [&](size_t i, int worker) {
        SeriesResult& r = (*results)[i];
        if (!compute(i, worker, &r)) stop.store(true);
        r.done = true;
      },
      [&] { return ctx->Poll(); }));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvalValue> Evaluator::EvalSelector(const VectorSelector& vs,
                                                  bool want_timestamps) {
  const bool has_at = vs.at != AtKind::kNone;
  const int64_t at = AtTime(vs.at, vs.at_ms);
  const int64_t lookback = ctx_->options->lookback_delta_ms;
  int64_t first_ref = (has_at ? at : start_) - vs.offset_ms;
  int64_t last_ref = (has_at ? at : end_) - vs.offset_ms;
  EvalValue out;
  out.type = ValueType::kVector;
  const int n = NumSteps();
  PANTAU_ASSIGN_OR_RETURN(
      std::vector<SelectedSeries> series,
      SelectSeries(vs, first_ref - lookback, last_ref, 0, ""));
  // Streams each series: only the step points are kept, never the raw
  // samples between them, so memory follows the result's size.
  auto compute = [&](size_t k, int, SeriesResult* r) -> bool {
    SampleIterator& it = *series[k].it;
    std::vector<Point>& res = r->points;
    bool valid = it.Seek(first_ref - lookback);
    Sample cur = valid ? it.At() : Sample{};
    Sample last;
    bool has_last = false;
    for (int i = 0; i < n; ++i) {
      int64_t ts = start_ + static_cast<int64_t>(i) * interval_;
      int64_t ref = (has_at ? at : ts) - vs.offset_ms;
      if (valid && cur.t < ref - lookback) {
        // Skip samples no step can see any more.
        has_last = false;
        valid = it.Seek(ref - lookback);
        if (valid) cur = it.At();
      }
      while (valid && cur.t <= ref) {
        last = cur;
        has_last = true;
        valid = it.Next();
        if (valid) cur = it.At();
      }
      if (!has_last || last.t < ref - lookback || IsStaleNaN(last.v)) {
        continue;
      }
      res.push_back(Point{
          ts, want_timestamps ? static_cast<double>(last.t) / 1000.0 : last.v});
    }
    r->read_status = it.status();
    series[k].it.reset();
    return r->read_status.ok();
  };
  std::vector<SeriesResult> results(series.size());
  PANTAU_RETURN_IF_ERROR(ComputeAll(ctx_, &results, compute));
  for (size_t k = 0; k < results.size(); ++k) {
    SeriesResult& r = results[k];
    if (!r.done) {
      PANTAU_RETURN_IF_ERROR(ctx_->Poll());
      compute(k, 0, &r);
    }
    if (!r.points.empty()) {
      PANTAU_RETURN_IF_ERROR(
          ctx_->Charge(static_cast<int64_t>(r.points.size())));
      out.matrix.push_back(
          Series{std::move(series[k].labels), std::move(r.points)});
    }
    PANTAU_RETURN_IF_ERROR(r.read_status);
  }
  return out;
}

absl::Status Evaluator::MapRangeSeries(const Expr& expr, std::string_view func,
                                       RangeInput* in,
                                       const RangeKernel& kernel,
                                       bool keep_name, Matrix* out) {
  const Expr& e = Unparen(expr);
  // What a sequential run could still charge before failing; workers stop
  // early past it so a huge query does not decode everything first.
  const int64_t max_samples = ctx_->options->max_samples;
  const int64_t budget = max_samples > 0 ? max_samples - ctx_->samples
                                         : std::numeric_limits<int64_t>::max();
  std::atomic<int64_t> produced{0};
  auto finish = [&](SeriesResult* r, std::span<const Point> pts,
                    const base::Labels& labels) -> bool {
    r->status = kernel(pts, &r->points);
    if (!r->status.ok()) return false;
    if (r->points.empty()) return true;
    r->labels = keep_name ? labels : DropMetricName(labels);
    int64_t sz = static_cast<int64_t>(r->points.size());
    return produced.fetch_add(sz, std::memory_order_relaxed) + sz <= budget;
  };
  auto commit =
      [&](std::vector<SeriesResult>& results,
          const std::function<void(size_t)>& recompute) -> absl::Status {
    for (size_t k = 0; k < results.size(); ++k) {
      SeriesResult& r = results[k];
      if (!r.done) {
        PANTAU_RETURN_IF_ERROR(ctx_->Poll());
        recompute(k);
      }
      PANTAU_RETURN_IF_ERROR(ctx_->Charge(r.held));
      PANTAU_RETURN_IF_ERROR(r.status);
      if (!r.points.empty()) {
        PANTAU_RETURN_IF_ERROR(
            ctx_->Charge(static_cast<int64_t>(r.points.size())));
        out->push_back(Series{std::move(r.labels), std::move(r.points)});
      }
      ctx_->Release(r.held);
      PANTAU_RETURN_IF_ERROR(r.read_status);
    }
    return absl::OkStatus();
  };

  if (e.kind == NodeKind::kMatrixSelector) {
    const auto& ms = static_cast<const MatrixSelector&>(e);
    const VectorSelector& vs = ms.selector();
    // Plain variables, not a structured binding: clang 14 cannot capture
    // those in the lambdas below.
    const std::pair<int64_t, int64_t> window = SetRangeInput(ms, in);
    const int64_t mint = window.first, maxt = window.second;
    PANTAU_ASSIGN_OR_RETURN(std::vector<SelectedSeries> series,
                            SelectSeries(vs, mint, maxt, ms.range_ms, func));
    // One buffer per thread, reused series after series: a range function
    // holds one series' samples at a time on each thread.
    std::vector<std::vector<Point>> bufs(
        ParallelThreads(ctx_->options->parallelism, series.size()));
    auto compute = [&](size_t k, int worker, SeriesResult* r) -> bool {
      std::vector<Point>& buf = bufs[worker];
      buf.clear();
      SampleIterator& it = *series[k].it;
      if (it.Seek(mint)) {
        do {
          Sample smp = it.At();
          if (smp.t > maxt) break;
          // Stale markers end instant lookups; ranges skip them.
          if (!IsStaleNaN(smp.v)) buf.push_back(Point{smp.t, smp.v});
        } while (it.Next());
      }
      r->read_status = it.status();
      series[k].it.reset();
      r->held = static_cast<int64_t>(buf.size());
      if (r->held > budget) return false;
      bool more = finish(r, buf, series[k].labels);
      return more && r->read_status.ok();
    };
    std::vector<SeriesResult> results(series.size());
    PANTAU_RETURN_IF_ERROR(ComputeAll(ctx_, &results, compute));
    return commit(results, [&](size_t k) { compute(k, 0, &results[k]); });
  }
  EvalValue v;
  PANTAU_RETURN_IF_ERROR(EvalRangeSubquery(e, in, &v));
  auto compute = [&](size_t k, int, SeriesResult* r) -> bool {
    return finish(r, v.matrix[k].points, v.matrix[k].labels);
  };
  std::vector<SeriesResult> results(v.matrix.size());
  PANTAU_RETURN_IF_ERROR(ComputeAll(ctx_, &results, compute));
  PANTAU_RETURN_IF_ERROR(
      commit(results, [&](size_t k) { compute(k, 0, &results[k]); }));
  ctx_->Release(v.Points());
  return absl::OkStatus();
}

absl::Status Evaluator::EvalSubquery(const SubqueryExpr& sq,
                                     const RangeInput* in, EvalValue* v) {
  int64_t step =
      sq.step_ms > 0 ? sq.step_ms : ctx_->options->default_subquery_step_ms;
  int64_t s = in->has_at ? in->at_ms : start_;
  int64_t e_end = in->has_at ? in->at_ms : end_;
  // The inner steps are aligned to multiples of the step, as Prometheus's.
  int64_t lo = s - sq.offset_ms - sq.range_ms;
  int64_t new_start = step * (lo / step);
  if (new_start < lo) new_start += step;
  int64_t new_end = e_end - sq.offset_ms;
  if (new_end < new_start) return absl::OkStatus();
  // Every inner step costs memory before any sample is charged; refuse
  // step counts no query could hold.
  if ((new_end - new_start) / step + 1 > ctx_->options->max_samples) {
    return absl::ResourceExhaustedError(
        "query processing would load too many samples into memory in query "
        "execution");
  }
  Evaluator sub(ctx_, new_start, new_end, step);
  PANTAU_ASSIGN_OR_RETURN(*v, sub.Eval(*sq.expr));
  return absl::OkStatus();
}

absl::Status Evaluator::ForEachRangeSeries(const Expr& expr,
                                           std::string_view func,
                                           RangeInput* in,
                                           const RangeSeriesFn& fn) {
  const Expr& e = Unparen(expr);
  if (e.kind == NodeKind::kMatrixSelector) {
    const auto& ms = static_cast<const MatrixSelector&>(e);
    const VectorSelector& vs = ms.selector();
    // Plain variables, not a structured binding: clang 14 cannot capture
    // those in the lambdas below.
    const std::pair<int64_t, int64_t> window = SetRangeInput(ms, in);
    const int64_t mint = window.first, maxt = window.second;
    // One buffer, reused series after series: a range function holds one
    // series' samples at a time.
    std::vector<Point> buf;
    return ForEachSeries(
        vs, mint, maxt, ms.range_ms, func,
        [&](const base::Labels& labels, SampleIterator& it) -> absl::Status {
          buf.clear();
          if (it.Seek(mint)) {
            do {
              Sample smp = it.At();
              if (smp.t > maxt) break;
              // Stale markers end instant lookups; ranges skip them.
              if (!IsStaleNaN(smp.v)) buf.push_back(Point{smp.t, smp.v});
            } while (it.Next());
          }
          const int64_t held = static_cast<int64_t>(buf.size());
          PANTAU_RETURN_IF_ERROR(ctx_->Charge(held));
          absl::Status st = fn(labels, buf);
          ctx_->Release(held);
          return st;
        });
  }
  EvalValue v;
  PANTAU_RETURN_IF_ERROR(EvalRangeSubquery(e, in, &v));
  for (const Series& series : v.matrix) {
    PANTAU_RETURN_IF_ERROR(ctx_->Poll());
    PANTAU_RETURN_IF_ERROR(fn(series.labels, series.points));
  }
  ctx_->Release(v.Points());
  return absl::OkStatus();
}

absl::StatusOr<Matrix> Evaluator::EvalRangeAtStart(const Expr& e) {
  RangeInput in;
  Matrix out;
  PANTAU_RETURN_IF_ERROR(ForEachRangeSeries(
      e, "", &in,
      [&](const base::Labels& labels,
          const std::vector<Point>& points) -> absl::Status {
        int64_t ref = (in.has_at ? in.at_ms : start_) - in.offset_ms;
        Series r;
        for (const Point& p : points) {
          if (p.t >= ref - in.range_ms && p.t <= ref) r.points.push_back(p);
        }
        if (r.points.empty()) return absl::OkStatus();
        PANTAU_RETURN_IF_ERROR(
            ctx_->Charge(static_cast<int64_t>(r.points.size())));
        r.labels = labels;
        out.push_back(std::move(r));
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<EvalValue> Evaluator::RangeEval(
    std::span<const EvalValue* const> args, const StepFn& step_fn) {
  const int n = NumSteps();
  std::vector<Vector> vecs(args.size());
  // Elements dropped from a step's vector keep their label buffers here, so
  // the next step copies labels into existing storage instead of
  // allocating per sample.
  std::vector<Vector> spare(args.size());
  std::vector<std::vector<size_t>> cursors(args.size());
  for (size_t a = 0; a < args.size(); ++a) {
    if (args[a]->type == ValueType::kVector) {
      cursors[a].assign(args[a]->matrix.size(), 0);
    }
  }
  EvalValue out;
  out.type = ValueType::kVector;
  absl::flat_hash_map<base::Labels, size_t> index;
  Vector result;
  for (int i = 0; i < n; ++i) {
    PANTAU_RETURN_IF_ERROR(ctx_->Poll());
    int64_t ts = start_ + static_cast<int64_t>(i) * interval_;
    for (size_t a = 0; a < args.size(); ++a) {
      if (args[a]->type != ValueType::kVector) continue;
      const Matrix& m = args[a]->matrix;
      Vector& v = vecs[a];
      size_t n = 0;
      for (size_t k = 0; k < m.size(); ++k) {
        size_t& c = cursors[a][k];
        const auto& pts = m[k].points;
        while (c < pts.size() && pts[c].t < ts) ++c;
        if (c >= pts.size() || pts[c].t != ts) continue;
        if (n == v.size()) {
          if (spare[a].empty()) {
            v.emplace_back();
          } else {
            v.push_back(std::move(spare[a].back()));
            spare[a].pop_back();
          }
        }
        VectorSample& s = v[n++];
        s.labels = m[k].labels;
        s.t = ts;
        s.v = pts[c].v;
      }
      while (v.size() > n) {
        spare[a].push_back(std::move(v.back()));
        v.pop_back();
      }
    }
    result.clear();
    PANTAU_RETURN_IF_ERROR(step_fn(i, ts, vecs, &result));
    if (ContainsSameLabelset(result)) return SameLabelsetError();
    PANTAU_RETURN_IF_ERROR(ctx_->Charge(static_cast<int64_t>(result.size())));
    for (VectorSample& s : result) {
      auto [it, inserted] = index.try_emplace(s.labels, out.matrix.size());
      if (inserted) {
        out.matrix.push_back(Series{std::move(s.labels), {}});
      }
      out.matrix[it->second].points.push_back(Point{ts, s.v});
    }
  }
  return out;
}

absl::StatusOr<EvalValue> Evaluator::EvalBinary(const BinaryExpr& b) {
  PANTAU_ASSIGN_OR_RETURN(EvalValue lhs, Eval(*b.lhs));
  PANTAU_ASSIGN_OR_RETURN(EvalValue rhs, Eval(*b.rhs));
  if (lhs.type == ValueType::kScalar && rhs.type == ValueType::kScalar) {
    EvalValue out;
    out.type = ValueType::kScalar;
    out.scalar.resize(lhs.scalar.size());
    for (size_t i = 0; i < lhs.scalar.size(); ++i) {
      out.scalar[i] = ScalarBinop(b.op, lhs.scalar[i], rhs.scalar[i]);
    }
    return out;
  }
  if (lhs.type == ValueType::kVector && rhs.type == ValueType::kVector) {
    EvalValue out;
    out.type = ValueType::kVector;
    if (VectorVectorSeriesWise(b, lhs.matrix, rhs.matrix, &out.matrix)) {
      PANTAU_RETURN_IF_ERROR(ctx_->Charge(out.Points()));
      ctx_->Release(lhs.Points() + rhs.Points());
      return out;
    }
  }
  if (lhs.type != rhs.type) {
    bool scalar_left = lhs.type == ValueType::kScalar;
    EvalValue& vec = scalar_left ? rhs : lhs;
    const EvalValue& sc = scalar_left ? lhs : rhs;
    int64_t before = vec.Points();
    if (VectorScalarSeriesWise(b, &vec.matrix, sc.scalar, scalar_left, start_,
                               interval_)) {
      ctx_->Release(before - vec.Points());
      return std::move(vec);
    }
  }
  const EvalValue* args[2] = {&lhs, &rhs};
  absl::StatusOr<EvalValue> out;
  if (lhs.type == ValueType::kVector && rhs.type == ValueType::kVector) {
    out = RangeEval(args,
                    [&](int, int64_t, std::span<const Vector> v, Vector* o) {
                      return VectorBinop(b, v[0], v[1], o);
                    });
  } else {
    bool scalar_left = lhs.type == ValueType::kScalar;
    const EvalValue& sc = scalar_left ? lhs : rhs;
    out = RangeEval(args,
                    [&](int i, int64_t, std::span<const Vector> v, Vector* o) {
                      VectorScalarBinop(b, scalar_left ? v[1] : v[0],
                                        sc.scalar[i], scalar_left, o);
                      return absl::OkStatus();
                    });
  }
  ctx_->Release(lhs.Points() + rhs.Points());
  return out;
}

absl::StatusOr<EvalValue> Evaluator::EvalAggregate(const AggregateExpr& a) {
  EvalValue param;
  if (a.param) {
    PANTAU_ASSIGN_OR_RETURN(param, Eval(*a.param));
  }
  PANTAU_ASSIGN_OR_RETURN(EvalValue in, Eval(*a.expr));
  if (!a.param) {
    EvalValue out;
    out.type = ValueType::kVector;
    if (AggregateSeriesWise(a, in.matrix, start_, interval_, NumSteps(),
                            &out.matrix)) {
      PANTAU_RETURN_IF_ERROR(ctx_->Charge(out.Points()));
      ctx_->Release(in.Points());
      return out;
    }
  }
  if (param.type == ValueType::kScalar) {
    EvalValue out;
    out.type = ValueType::kVector;
    if (TopkSeriesWise(a, in.matrix, param.scalar, start_, interval_,
                       NumSteps(), &out.matrix)) {
      PANTAU_RETURN_IF_ERROR(ctx_->Charge(out.Points()));
      ctx_->Release(in.Points());
      return out;
    }
  }
  const EvalValue* args[1] = {&in};
  auto out = RangeEval(
      args, [&](int i, int64_t, std::span<const Vector> v, Vector* o) {
        double p = param.type == ValueType::kScalar ? param.scalar[i] : 0;
        return AggregateStep(a, v[0], p, param.str, o);
      });
  ctx_->Release(in.Points());
  return out;
}

}  // namespace pantau::metrics::promql
