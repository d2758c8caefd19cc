// Element-wise math on instant vectors: abs, ceil, floor, exp, sqrt, ln,
// log2, log10, sgn, round, clamp*, the trigonometric functions, deg, rad;
// each drops the metric name.
#include <cmath>
#include <numbers>

#include "metrics/promql/functions.h"

namespace pantau::metrics::promql {
namespace {

template <double (*F)(double)>
absl::Status Simple(const CallContext& c, Vector* out) {
  for (const VectorSample& s : *c.args[0].vector) {
    out->push_back(VectorSample{DropMetricName(s.labels), s.t, F(s.v)});
  }
  return absl::OkStatus();
}

double Abs(double v) { return std::fabs(v); }
double Ceil(double v) { return std::ceil(v); }
double Floor(double v) { return std::floor(v); }
double Exp(double v) { return std::exp(v); }
double Sqrt(double v) { return std::sqrt(v); }
double Ln(double v) { return std::log(v); }
double Log2(double v) { return std::log2(v); }
double Log10(double v) { return std::log10(v); }
double Sgn(double v) { return v < 0 ? -1 : v > 0 ? 1 : v; }
double Sin(double v) { return std::sin(v); }
double Cos(double v) { return std::cos(v); }
double Tan(double v) { return std::tan(v); }
double Asin(double v) { return std::asin(v); }
double Acos(double v) { return std::acos(v); }
double Atan(double v) { return std::atan(v); }
double Sinh(double v) { return std::sinh(v); }
double Cosh(double v) { return std::cosh(v); }
double Tanh(double v) { return std::tanh(v); }
double Asinh(double v) { return std::asinh(v); }
double Acosh(double v) { return std::acosh(v); }
double Atanh(double v) { return std::atanh(v); }
double Deg(double v) { return v * 180 / std::numbers::pi; }
double Rad(double v) { return v * std::numbers::pi / 180; }

absl::Status Round(const CallContext& c, Vector* out) {
  double to_nearest = c.args.size() > 1 ? c.args[1].scalar : 1;
  // Dividing by the inverse keeps e.g. round(x, 0.1) exact more often.
  double inv = 1.0 / to_nearest;
  for (const VectorSample& s : *c.args[0].vector) {
    double v = std::floor(s.v * inv + 0.5) / inv;
    out->push_back(VectorSample{DropMetricName(s.labels), s.t, v});
  }
  return absl::OkStatus();
}

absl::Status ClampImpl(const Vector& in, double lo, double hi, Vector* out) {
  for (const VectorSample& s : in) {
    double v = std::fmax(lo, std::fmin(hi, s.v));
    if (std::isnan(s.v)) v = s.v;
    out->push_back(VectorSample{DropMetricName(s.labels), s.t, v});
  }
  return absl::OkStatus();
}

absl::Status Clamp(const CallContext& c, Vector* out) {
  double lo = c.args[1].scalar, hi = c.args[2].scalar;
  if (hi < lo) return absl::OkStatus();
  // Go's math.Max/Min propagate NaN bounds.
  if (std::isnan(lo) || std::isnan(hi)) {
    for (const VectorSample& s : *c.args[0].vector) {
      out->push_back(VectorSample{DropMetricName(s.labels), s.t, NAN});
    }
    return absl::OkStatus();
  }
  return ClampImpl(*c.args[0].vector, lo, hi, out);
}

absl::Status ClampMin(const CallContext& c, Vector* out) {
  double lo = c.args[1].scalar;
  for (const VectorSample& s : *c.args[0].vector) {
    double v = (std::isnan(s.v) || std::isnan(lo)) ? NAN : std::fmax(lo, s.v);
    out->push_back(VectorSample{DropMetricName(s.labels), s.t, v});
  }
  return absl::OkStatus();
}

absl::Status ClampMax(const CallContext& c, Vector* out) {
  double hi = c.args[1].scalar;
  for (const VectorSample& s : *c.args[0].vector) {
    double v = (std::isnan(s.v) || std::isnan(hi)) ? NAN : std::fmin(hi, s.v);
    out->push_back(VectorSample{DropMetricName(s.labels), s.t, v});
  }
  return absl::OkStatus();
}

absl::Status Pi(const CallContext& c, Vector* out) {
  out->push_back(VectorSample{{}, c.ts, std::numbers::pi});
  return absl::OkStatus();
}

FunctionDef Def(std::string name, VectorFunc fn,
                std::vector<ValueType> args = {ValueType::kVector},
                int variadic = 0) {
  FunctionDef d;
  d.name = std::move(name);
  d.arg_types = std::move(args);
  d.vector_fn = fn;
  d.variadic = variadic;
  return d;
}

}  // namespace

void RegisterMathFunctions(FunctionTable* t) {
  using VT = ValueType;
  auto simple = [t](std::string name, VectorFunc fn, double (*f)(double)) {
    FunctionDef d = Def(std::move(name), fn);
    d.elementwise = f;
    t->push_back(std::move(d));
  };
  simple("abs", Simple<Abs>, Abs);
  simple("ceil", Simple<Ceil>, Ceil);
  simple("floor", Simple<Floor>, Floor);
  simple("exp", Simple<Exp>, Exp);
  simple("sqrt", Simple<Sqrt>, Sqrt);
  simple("ln", Simple<Ln>, Ln);
  simple("log2", Simple<Log2>, Log2);
  simple("log10", Simple<Log10>, Log10);
  simple("sgn", Simple<Sgn>, Sgn);
  simple("sin", Simple<Sin>, Sin);
  simple("cos", Simple<Cos>, Cos);
  simple("tan", Simple<Tan>, Tan);
  simple("asin", Simple<Asin>, Asin);
  simple("acos", Simple<Acos>, Acos);
  simple("atan", Simple<Atan>, Atan);
  simple("sinh", Simple<Sinh>, Sinh);
  simple("cosh", Simple<Cosh>, Cosh);
  simple("tanh", Simple<Tanh>, Tanh);
  simple("asinh", Simple<Asinh>, Asinh);
  simple("acosh", Simple<Acosh>, Acosh);
  simple("atanh", Simple<Atanh>, Atanh);
  simple("deg", Simple<Deg>, Deg);
  simple("rad", Simple<Rad>, Rad);
  t->push_back(Def("round", Round, {VT::kVector, VT::kScalar}, 1));
  t->push_back(Def("clamp", Clamp, {VT::kVector, VT::kScalar, VT::kScalar}));
  t->push_back(Def("clamp_min", ClampMin, {VT::kVector, VT::kScalar}));
  t->push_back(Def("clamp_max", ClampMax, {VT::kVector, VT::kScalar}));
  FunctionDef pi = Def("pi", Pi, {});
  pi.return_type = VT::kScalar;
  t->push_back(pi);
}

}  // namespace pantau::metrics::promql
