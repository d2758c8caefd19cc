// The *_over_time family: aggregations of each series over its window.
// (absent_over_time, which looks at all series at once, is evaluated in
// evaluator_call.cc.)
#include <cmath>

#include "metrics/promql/evaluator.h"
#include "metrics/promql/functions.h"

namespace pantau::metrics::promql {
namespace {

absl::Status Avg(const RangeWindow& w, double* out, bool* has) {
  double mean = 0, c = 0, count = 0;
  for (const Point& p : w.points) {
    count++;
    if (std::isinf(mean)) {
      if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) continue;
      if (!std::isinf(p.v) && !std::isnan(p.v)) continue;
    }
    KahanAdd(p.v / count - mean / count, &mean, &c);
  }
  *out = std::isinf(mean) ? mean : mean + c;
  *has = true;
  return absl::OkStatus();
}

absl::Status Count(const RangeWindow& w, double* out, bool* has) {
  *out = static_cast<double>(w.points.size());
  *has = true;
  return absl::OkStatus();
}

absl::Status Sum(const RangeWindow& w, double* out, bool* has) {
  double sum = 0, c = 0;
  for (const Point& p : w.points) KahanAdd(p.v, &sum, &c);
  *out = std::isinf(sum) ? sum : sum + c;
  *has = true;
  return absl::OkStatus();
}

absl::Status Min(const RangeWindow& w, double* out, bool* has) {
  double m = w.points[0].v;
  for (const Point& p : w.points) {
    if (p.v < m || std::isnan(m)) m = p.v;
  }
  *out = m;
  *has = true;
  return absl::OkStatus();
}

absl::Status Max(const RangeWindow& w, double* out, bool* has) {
  double m = w.points[0].v;
  for (const Point& p : w.points) {
    if (p.v > m || std::isnan(m)) m = p.v;
  }
  *out = m;
  *has = true;
  return absl::OkStatus();
}

absl::Status Last(const RangeWindow& w, double* out, bool* has) {
  *out = w.points.back().v;
  *has = true;
  return absl::OkStatus();
}

absl::Status Present(const RangeWindow& w, double* out, bool* has) {
  *out = 1;
  *has = true;
  return absl::OkStatus();
}

absl::Status QuantileOverTime(const RangeWindow& w, double* out, bool* has) {
  // Thread-local scratch: no allocation per window once warmed up.
  thread_local std::vector<double> values;
  values.clear();
  for (const Point& p : w.points) values.push_back(p.v);
  *out = Quantile(w.params[0], &values);
  *has = true;
  return absl::OkStatus();
}

double Stdvar(const RangeWindow& w) {
  double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
  for (const Point& p : w.points) {
    count++;
    double delta = p.v - (mean + cmean);
    KahanAdd(delta / count, &mean, &cmean);
    KahanAdd(delta * (p.v - (mean + cmean)), &aux, &caux);
  }
  return (aux + caux) / count;
}

absl::Status StdvarOverTime(const RangeWindow& w, double* out, bool* has) {
  *out = Stdvar(w);
  *has = true;
  return absl::OkStatus();
}
absl::Status StddevOverTime(const RangeWindow& w, double* out, bool* has) {
  *out = std::sqrt(Stdvar(w));
  *has = true;
  return absl::OkStatus();
}

// absent_over_time never runs per series; the evaluator handles it.
absl::Status Unused(const RangeWindow&, double*, bool*) {
  return absl::InternalError("absent_over_time is evaluated specially");
}

FunctionDef Def(std::string name, RangeFunc fn,
                std::vector<ValueType> args = {ValueType::kMatrix}) {
  FunctionDef d;
  d.name = std::move(name);
  d.arg_types = std::move(args);
  d.range_fn = fn;
  return d;
}

}  // namespace

void RegisterOverTimeFunctions(FunctionTable* t) {
  t->push_back(Def("avg_over_time", Avg));
  t->push_back(Def("count_over_time", Count));
  t->push_back(Def("sum_over_time", Sum));
  FunctionDef min = Def("min_over_time", Min);
  min.sliding_extreme = -1;
  t->push_back(min);
  FunctionDef max = Def("max_over_time", Max);
  max.sliding_extreme = 1;
  t->push_back(max);
  FunctionDef last = Def("last_over_time", Last);
  last.keeps_metric_name = true;  // acts like an offset, so keeps the name
  t->push_back(last);
  t->push_back(Def("present_over_time", Present));
  t->push_back(Def("stddev_over_time", StddevOverTime));
  t->push_back(Def("stdvar_over_time", StdvarOverTime));
  t->push_back(Def("quantile_over_time", QuantileOverTime,
                   {ValueType::kScalar, ValueType::kMatrix}));
  t->push_back(Def("absent_over_time", Unused));
}

}  // namespace pantau::metrics::promql
