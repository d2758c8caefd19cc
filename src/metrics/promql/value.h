// Values the PromQL evaluator produces: scalars, strings, instant vectors
// and range matrices, with Prometheus's shapes.
//
// Thread safety: plain values; not synchronized.
#ifndef PANTAU_METRICS_PROMQL_VALUE_H_
#define PANTAU_METRICS_PROMQL_VALUE_H_

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "base/labels.h"
#include "metrics/promql/ast.h"

namespace pantau::metrics::promql {

struct Point {
  int64_t t = 0;
  double v = 0;
};

// One element of an instant vector.
struct VectorSample {
  base::Labels labels;
  int64_t t = 0;
  double v = 0;
};
using Vector = std::vector<VectorSample>;

// One series of a matrix; points are in increasing time order.
struct Series {
  base::Labels labels;
  std::vector<Point> points;
};
using Matrix = std::vector<Series>;

struct Scalar {
  int64_t t = 0;
  double v = 0;
};

struct String {
  int64_t t = 0;
  std::string v;
};

// A query's result. Instant queries give a Scalar, String or Vector; range
// queries give a Matrix.
struct Value {
  ValueType type = ValueType::kNone;
  std::variant<std::monostate, Scalar, String, Vector, Matrix> data;
  const Scalar& scalar() const { return std::get<Scalar>(data); }
  const String& string() const { return std::get<String>(data); }
  const Vector& vector() const { return std::get<Vector>(data); }
  const Matrix& matrix() const { return std::get<Matrix>(data); }
};

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_VALUE_H_
