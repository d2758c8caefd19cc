// time() and the calendar functions (year, month, day_of_month, ...), which
// read a vector of Unix seconds or default to the evaluation time.
#include <cmath>

#include "absl/time/time.h"
#include "metrics/promql/functions.h"

namespace pantau::metrics::promql {
namespace {

absl::Status Time(const CallContext& c, Vector* out) {
  out->push_back(VectorSample{{}, c.ts, static_cast<double>(c.ts) / 1000});
  return absl::OkStatus();
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

template <double (*F)(const absl::CivilSecond&)>
absl::Status DateFn(const CallContext& c, Vector* out) {
  auto apply = [](double v) {
    if (std::isnan(v) || std::isinf(v)) return v;
    absl::CivilSecond cs = absl::ToCivilSecond(
        absl::FromUnixSeconds(static_cast<int64_t>(v)), absl::UTCTimeZone());
    return F(cs);
  };
  if (c.args.empty()) {
    out->push_back(
        VectorSample{{}, c.ts, apply(static_cast<double>(c.ts) / 1000)});
    return absl::OkStatus();
  }
  for (const VectorSample& s : *c.args[0].vector) {
    out->push_back(VectorSample{DropMetricName(s.labels), s.t, apply(s.v)});
  }
  return absl::OkStatus();
}

double Year(const absl::CivilSecond& t) { return t.year(); }
double Month(const absl::CivilSecond& t) { return t.month(); }
double DayOfMonth(const absl::CivilSecond& t) { return t.day(); }
double DayOfYear(const absl::CivilSecond& t) {
  return absl::GetYearDay(absl::CivilDay(t));
}
double DayOfWeek(const absl::CivilSecond& t) {
  // Sunday is 0, as in Go.
  return (static_cast<int>(absl::GetWeekday(absl::CivilDay(t))) + 1) % 7;
}
double Hour(const absl::CivilSecond& t) { return t.hour(); }
double Minute(const absl::CivilSecond& t) { return t.minute(); }
double DaysInMonth(const absl::CivilSecond& t) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int m = t.month();
  return m == 2 && IsLeap(t.year()) ? 29 : kDays[m - 1];
}

FunctionDef DateDef(std::string name, VectorFunc fn) {
  FunctionDef d;
  d.name = std::move(name);
  d.arg_types = {ValueType::kVector};
  d.variadic = 1;
  d.vector_fn = fn;
  return d;
}

}  // namespace

void RegisterTimeFunctions(FunctionTable* t) {
  FunctionDef time;
  time.name = "time";
  time.return_type = ValueType::kScalar;
  time.vector_fn = Time;
  t->push_back(time);
  t->push_back(DateDef("year", DateFn<Year>));
  t->push_back(DateDef("month", DateFn<Month>));
  t->push_back(DateDef("day_of_month", DateFn<DayOfMonth>));
  t->push_back(DateDef("day_of_year", DateFn<DayOfYear>));
  t->push_back(DateDef("day_of_week", DateFn<DayOfWeek>));
  t->push_back(DateDef("hour", DateFn<Hour>));
  t->push_back(DateDef("minute", DateFn<Minute>));
  t->push_back(DateDef("days_in_month", DateFn<DaysInMonth>));
}

}  // namespace pantau::metrics::promql
