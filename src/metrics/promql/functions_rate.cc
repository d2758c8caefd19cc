// rate, increase, delta, irate, idelta, deriv, predict_linear, changes,
// resets, holt_winters: functions of how a series moves over a window.
#include <cmath>

#include "absl/strings/str_format.h"
#include "metrics/promql/evaluator.h"
#include "metrics/promql/functions.h"

namespace pantau::metrics::promql {
namespace {

// Prometheus's extrapolated rate: the change over the window, extrapolated
// to the window's edges when the samples come close to them.
absl::Status ExtrapolatedRate(const RangeWindow& w, bool is_counter,
                              bool is_rate, double* out, bool* has) {
  const auto& p = w.points;
  if (p.size() < 2) return absl::OkStatus();
  double result = p.back().v - p.front().v;
  if (is_counter && w.may_have_resets) {
    double last = 0;
    for (const Point& s : p) {
      if (s.v < last) result += last;
      last = s.v;
    }
  }
  double to_start = static_cast<double>(p.front().t - w.start) / 1000;
  double to_end = static_cast<double>(w.end - p.back().t) / 1000;
  double sampled = static_cast<double>(p.back().t - p.front().t) / 1000;
  double avg_step = sampled / static_cast<double>(p.size() - 1);
  if (is_counter && result > 0 && p.front().v >= 0) {
    // A counter can't go below zero: don't extrapolate past that point.
    double to_zero = sampled * (p.front().v / result);
    if (to_zero < to_start) to_start = to_zero;
  }
  double threshold = avg_step * 1.1;
  double interval = sampled;
  interval += to_start < threshold ? to_start : avg_step / 2;
  interval += to_end < threshold ? to_end : avg_step / 2;
  double factor = interval / sampled;
  if (is_rate) {
    // Whole seconds, as Prometheus divides time.Durations.
    factor /= static_cast<double>((w.end - w.start) / 1000);
  }
  *out = result * factor;
  *has = true;
  return absl::OkStatus();
}

absl::Status Rate(const RangeWindow& w, double* out, bool* has) {
  return ExtrapolatedRate(w, true, true, out, has);
}
absl::Status Increase(const RangeWindow& w, double* out, bool* has) {
  return ExtrapolatedRate(w, true, false, out, has);
}
absl::Status Delta(const RangeWindow& w, double* out, bool* has) {
  return ExtrapolatedRate(w, false, false, out, has);
}

absl::Status InstantValue(const RangeWindow& w, bool is_rate, double* out,
                          bool* has) {
  const auto& p = w.points;
  if (p.size() < 2) return absl::OkStatus();
  const Point& last = p[p.size() - 1];
  const Point& prev = p[p.size() - 2];
  double result = (is_rate && last.v < prev.v) ? last.v : last.v - prev.v;
  int64_t interval = last.t - prev.t;
  if (interval == 0) return absl::OkStatus();
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  *out = result;
  *has = true;
  return absl::OkStatus();
}
absl::Status Irate(const RangeWindow& w, double* out, bool* has) {
  return InstantValue(w, true, out, has);
}
absl::Status Idelta(const RangeWindow& w, double* out, bool* has) {
  return InstantValue(w, false, out, has);
}

void LinearRegression(std::span<const Point> p, int64_t intercept_time,
                      double* slope, double* intercept) {
  double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0,
         cx2 = 0;
  double init_y = p[0].v;
  bool const_y = true;
  for (size_t i = 0; i < p.size(); ++i) {
    if (const_y && i > 0 && p[i].v != init_y) const_y = false;
    n += 1;
    double x = static_cast<double>(p[i].t - intercept_time) / 1e3;
    KahanAdd(x, &sx, &cx);
    KahanAdd(p[i].v, &sy, &cy);
    KahanAdd(x * p[i].v, &sxy, &cxy);
    KahanAdd(x * x, &sx2, &cx2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      *slope = NAN;
      *intercept = NAN;
    } else {
      *slope = 0;
      *intercept = init_y;
    }
    return;
  }
  sx += cx;
  sy += cy;
  sxy += cxy;
  sx2 += cx2;
  double cov = sxy - sx * sy / n;
  double var = sx2 - sx * sx / n;
  *slope = cov / var;
  *intercept = sy / n - *slope * sx / n;
}

absl::Status Deriv(const RangeWindow& w, double* out, bool* has) {
  if (w.points.size() < 2) return absl::OkStatus();
  double slope, intercept;
  LinearRegression(w.points, w.points[0].t, &slope, &intercept);
  *out = slope;
  *has = true;
  return absl::OkStatus();
}

absl::Status PredictLinear(const RangeWindow& w, double* out, bool* has) {
  if (w.points.size() < 2) return absl::OkStatus();
  double slope, intercept;
  LinearRegression(w.points, w.ts, &slope, &intercept);
  *out = slope * w.params[0] + intercept;
  *has = true;
  return absl::OkStatus();
}

absl::Status Changes(const RangeWindow& w, double* out, bool* has) {
  int changes = 0;
  double prev = w.points[0].v;
  for (size_t i = 1; i < w.points.size(); ++i) {
    double cur = w.points[i].v;
    if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) ++changes;
    prev = cur;
  }
  *out = changes;
  *has = true;
  return absl::OkStatus();
}

absl::Status Resets(const RangeWindow& w, double* out, bool* has) {
  int resets = 0;
  double prev = w.points[0].v;
  for (size_t i = 1; i < w.points.size(); ++i) {
    double cur = w.points[i].v;
    if (cur < prev) ++resets;
    prev = cur;
  }
  *out = resets;
  *has = true;
  return absl::OkStatus();
}

absl::Status HoltWinters(const RangeWindow& w, double* out, bool* has) {
  double sf = w.params[0], tf = w.params[1];
  if (sf <= 0 || sf >= 1) {
    return ExecutionError(absl::StrFormat(
        "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf));
  }
  if (tf <= 0 || tf >= 1) {
    return ExecutionError(absl::StrFormat(
        "invalid trend factor. Expected: 0 < tf < 1, got: %f", tf));
  }
  const auto& p = w.points;
  if (p.size() < 2) return absl::OkStatus();
  double s0 = 0, s1 = p[0].v, b = p[1].v - p[0].v;
  for (size_t i = 1; i < p.size(); ++i) {
    double x = sf * p[i].v;
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  *out = s1;
  *has = true;
  return absl::OkStatus();
}

FunctionDef RangeFn(std::string name, RangeFunc fn,
                    std::vector<ValueType> args = {ValueType::kMatrix}) {
  FunctionDef d;
  d.name = std::move(name);
  d.arg_types = std::move(args);
  d.range_fn = fn;
  return d;
}

}  // namespace

void RegisterRateFunctions(FunctionTable* t) {
  using VT = ValueType;
  t->push_back(RangeFn("rate", Rate));
  t->back().uses_resets = true;
  t->push_back(RangeFn("increase", Increase));
  t->back().uses_resets = true;
  t->push_back(RangeFn("delta", Delta));
  t->push_back(RangeFn("irate", Irate));
  t->push_back(RangeFn("idelta", Idelta));
  t->push_back(RangeFn("deriv", Deriv));
  t->push_back(
      RangeFn("predict_linear", PredictLinear, {VT::kMatrix, VT::kScalar}));
  t->push_back(RangeFn("changes", Changes));
  t->push_back(RangeFn("resets", Resets));
  t->push_back(RangeFn("holt_winters", HoltWinters,
                       {VT::kMatrix, VT::kScalar, VT::kScalar}));
}

}  // namespace pantau::metrics::promql
