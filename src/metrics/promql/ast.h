// The PromQL abstract syntax tree, as produced by the parser (parser.h) and
// walked by the evaluator (evaluator.h). Nodes own their children. String()
// prints a node back as PromQL (the form /api/v1/format_query returns).
//
// Thread safety: immutable after parsing; safe to share between threads.
#ifndef PANTAU_METRICS_PROMQL_AST_H_
#define PANTAU_METRICS_PROMQL_AST_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "metrics/storage/matcher.h"

namespace pantau::metrics::promql {

// PromQL duration units, largest first: the parser reads them and the
// printer writes them from this one table.
inline constexpr std::pair<const char*, int64_t> kDurationUnits[] = {
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1}};

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };
std::string_view ValueTypeName(ValueType t);  // "scalar", "instant vector"...

// Binary and unary operators; names as in PromQL.
enum class Op {
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kAtan2,
  kEql,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kAnd,
  kOr,
  kUnless,
};
std::string_view OpString(Op op);
bool IsComparison(Op op);
bool IsSetOp(Op op);

enum class AggOp {
  kSum,
  kAvg,
  kCount,
  kMin,
  kMax,
  kGroup,
  kStddev,
  kStdvar,
  kTopk,
  kBottomk,
  kCountValues,
  kQuantile,
};
std::string_view AggOpString(AggOp op);

enum class NodeKind {
  kNumber,
  kString,
  kParen,
  kUnary,
  kBinary,
  kVectorSelector,
  kMatrixSelector,
  kSubquery,
  kCall,
  kAggregate,
};

// Where a node starts and ends in the query text (byte offsets).
struct PosRange {
  int start = 0;
  int end = 0;
};

struct Expr {
  explicit Expr(NodeKind k) : kind(k) {}
  virtual ~Expr() = default;
  ValueType type() const;
  std::string String() const;
  // Prometheus's prettified form (what /api/v1/format_query returns): like
  // String() but nodes longer than 100 characters split over indented
  // lines; `level` is the starting indent (two spaces each).
  std::string Pretty(int level = 0) const;
  NodeKind kind;
  PosRange pos;
  // Height of the subtree (1 for a leaf); the parser bounds it so that
  // recursive evaluation, printing and destruction stay within the stack.
  int depth = 1;
};
using ExprPtr = std::unique_ptr<Expr>;

// `@` modifier: a fixed time, or start()/end() of the query.
enum class AtKind { kNone, kTimestamp, kStart, kEnd };

struct NumberLiteral : Expr {
  NumberLiteral() : Expr(NodeKind::kNumber) {}
  double value = 0;
};

struct StringLiteral : Expr {
  StringLiteral() : Expr(NodeKind::kString) {}
  std::string value;
};

struct ParenExpr : Expr {
  ParenExpr() : Expr(NodeKind::kParen) {}
  ExprPtr expr;
};

struct UnaryExpr : Expr {
  UnaryExpr() : Expr(NodeKind::kUnary) {}
  Op op = Op::kSub;  // kAdd or kSub
  ExprPtr expr;
};

// Vector matching of a binary operation between two vectors.
enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };
struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  std::vector<std::string> labels;   // of on(...) / ignoring(...)
  bool on = false;                   // on(...) rather than ignoring(...)
  std::vector<std::string> include;  // group_left/right(...) labels
};

struct BinaryExpr : Expr {
  BinaryExpr() : Expr(NodeKind::kBinary) {}
  Op op = Op::kAdd;
  ExprPtr lhs, rhs;
  bool return_bool = false;
  // Present when both sides are vectors (or explicit modifiers were given).
  std::optional<VectorMatching> matching;
};

struct VectorSelector : Expr {
  VectorSelector() : Expr(NodeKind::kVectorSelector) {}
  std::string name;               // empty when only given by matchers
  std::vector<Matcher> matchers;  // including __name__ when name is set
  int64_t offset_ms = 0;
  AtKind at = AtKind::kNone;
  int64_t at_ms = 0;  // for kTimestamp
};

struct MatrixSelector : Expr {
  MatrixSelector() : Expr(NodeKind::kMatrixSelector) {}
  ExprPtr vs;  // a VectorSelector; offset/@ live there
  int64_t range_ms = 0;
  const VectorSelector& selector() const {
    return static_cast<const VectorSelector&>(*vs);
  }
};

struct SubqueryExpr : Expr {
  SubqueryExpr() : Expr(NodeKind::kSubquery) {}
  ExprPtr expr;
  int64_t range_ms = 0;
  int64_t step_ms = 0;  // 0: the engine's default evaluation interval
  int64_t offset_ms = 0;
  AtKind at = AtKind::kNone;
  int64_t at_ms = 0;
};

struct FunctionDef;  // functions.h
struct Call : Expr {
  Call() : Expr(NodeKind::kCall) {}
  const FunctionDef* func = nullptr;
  std::vector<ExprPtr> args;
};

struct AggregateExpr : Expr {
  AggregateExpr() : Expr(NodeKind::kAggregate) {}
  AggOp op = AggOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // topk/bottomk/quantile/count_values
  std::vector<std::string> grouping;
  bool without = false;
  bool has_grouping = false;  // by()/without() written explicitly
};

// Every VectorSelector under `e` (including inside matrix selectors), in
// query order.
std::vector<const VectorSelector*> CollectSelectors(const Expr& e);

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_AST_H_
