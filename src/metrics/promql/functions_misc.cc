// vector, scalar, sort, sort_desc, absent, timestamp: functions that
// reshape values rather than compute on them. (absent and timestamp need
// the call's syntax and are finished in evaluator_call.cc.)
#include <algorithm>
#include <cmath>

#include "metrics/promql/functions.h"

namespace pantau::metrics::promql {
namespace {

absl::Status VectorFn(const CallContext& c, Vector* out) {
  out->push_back(VectorSample{{}, c.ts, c.args[0].scalar});
  return absl::OkStatus();
}

absl::Status ScalarFn(const CallContext& c, Vector* out) {
  const Vector& v = *c.args[0].vector;
  out->push_back(VectorSample{{}, c.ts, v.size() == 1 ? v[0].v : NAN});
  return absl::OkStatus();
}

template <bool kDesc>
absl::Status Sort(const CallContext& c, Vector* out) {
  *out = *c.args[0].vector;
  std::stable_sort(out->begin(), out->end(),
                   [](const VectorSample& a, const VectorSample& b) {
                     // NaN sorts last either way.
                     if (std::isnan(a.v)) return false;
                     if (std::isnan(b.v)) return true;
                     return kDesc ? a.v > b.v : a.v < b.v;
                   });
  return absl::OkStatus();
}

absl::Status Timestamp(const CallContext& c, Vector* out) {
  for (const VectorSample& s : *c.args[0].vector) {
    out->push_back(VectorSample{DropMetricName(s.labels), s.t,
                                static_cast<double>(s.t) / 1000});
  }
  return absl::OkStatus();
}

absl::Status Absent(const CallContext&, Vector*) {
  return absl::InternalError("absent is evaluated specially");
}

FunctionDef Def(std::string name, VectorFunc fn, std::vector<ValueType> args,
                ValueType ret = ValueType::kVector) {
  FunctionDef d;
  d.name = std::move(name);
  d.arg_types = std::move(args);
  d.vector_fn = fn;
  d.return_type = ret;
  return d;
}

}  // namespace

void RegisterMiscFunctions(FunctionTable* t) {
  using VT = ValueType;
  t->push_back(Def("vector", VectorFn, {VT::kScalar}));
  t->push_back(Def("scalar", ScalarFn, {VT::kVector}, VT::kScalar));
  t->push_back(Def("sort", Sort<false>, {VT::kVector}));
  t->push_back(Def("sort_desc", Sort<true>, {VT::kVector}));
  t->push_back(Def("timestamp", Timestamp, {VT::kVector}));
  t->push_back(Def("absent", Absent, {VT::kVector}));
}

}  // namespace pantau::metrics::promql
