#include "metrics/promql/ast.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "metrics/promql/functions.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kNone:
      return "none";
    case ValueType::kScalar:
      return "scalar";
    case ValueType::kVector:
      return "instant vector";
    case ValueType::kMatrix:
      return "range vector";
    case ValueType::kString:
      return "string";
  }
  return "none";
}

std::string_view OpString(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kPow:
      return "^";
    case Op::kAtan2:
      return "atan2";
    case Op::kEql:
      return "==";
    case Op::kNeq:
      return "!=";
    case Op::kGtr:
      return ">";
    case Op::kLss:
      return "<";
    case Op::kGte:
      return ">=";
    case Op::kLte:
      return "<=";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kUnless:
      return "unless";
  }
  return "?";
}

bool IsComparison(Op op) {
  return op == Op::kEql || op == Op::kNeq || op == Op::kGtr || op == Op::kLss ||
         op == Op::kGte || op == Op::kLte;
}
bool IsSetOp(Op op) {
  return op == Op::kAnd || op == Op::kOr || op == Op::kUnless;
}

std::string_view AggOpString(AggOp op) {
  switch (op) {
    case AggOp::kSum:
      return "sum";
    case AggOp::kAvg:
      return "avg";
    case AggOp::kCount:
      return "count";
    case AggOp::kMin:
      return "min";
    case AggOp::kMax:
      return "max";
    case AggOp::kGroup:
      return "group";
    case AggOp::kStddev:
      return "stddev";
    case AggOp::kStdvar:
      return "stdvar";
    case AggOp::kTopk:
      return "topk";
    case AggOp::kBottomk:
      return "bottomk";
    case AggOp::kCountValues:
      return "count_values";
    case AggOp::kQuantile:
      return "quantile";
  }
  return "?";
}

ValueType Expr::type() const {
  switch (kind) {
    case NodeKind::kNumber:
      return ValueType::kScalar;
    case NodeKind::kString:
      return ValueType::kString;
    case NodeKind::kParen:
      return static_cast<const ParenExpr*>(this)->expr->type();
    case NodeKind::kUnary:
      return static_cast<const UnaryExpr*>(this)->expr->type();
    case NodeKind::kBinary: {
      auto* b = static_cast<const BinaryExpr*>(this);
      return b->lhs->type() == ValueType::kScalar &&
                     b->rhs->type() == ValueType::kScalar
                 ? ValueType::kScalar
                 : ValueType::kVector;
    }
    case NodeKind::kVectorSelector:
      return ValueType::kVector;
    case NodeKind::kMatrixSelector:
      return ValueType::kMatrix;
    case NodeKind::kSubquery:
      return ValueType::kMatrix;
    case NodeKind::kCall:
      return static_cast<const Call*>(this)->func->return_type;
    case NodeKind::kAggregate:
      return ValueType::kVector;
  }
  return ValueType::kNone;
}

namespace {

// Go's strconv.FormatFloat(v, 'g', -1, 64), which PromQL's printer uses.
std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == 0) return std::signbit(v) ? "-0" : "0";
  char buf[64];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  int exp = static_cast<int>(
      std::floor(std::log10(std::fabs(std::strtod(buf, nullptr)))));
  // Recompute the exponent from the text to avoid log10 rounding.
  if (const char* e = std::strchr(buf, 'e')) exp = std::atoi(e + 1);
  if (exp < -4 || exp >= 6) return buf;  // as Go: shortest digits, %e past 1e6
  int decimals = std::max(prec - 1 - exp, 0);
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string AtString(AtKind at, int64_t ms) {
  switch (at) {
    case AtKind::kNone:
      return "";
    case AtKind::kStart:
      return " @ start()";
    case AtKind::kEnd:
      return " @ end()";
    case AtKind::kTimestamp:
      return absl::StrFormat(" @ %.3f", static_cast<double>(ms) / 1000.0);
  }
  return "";
}

std::string DurationString(int64_t ms) {
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const auto& kUnits = kDurationUnits;
  for (const auto& [name, size] : kUnits) {
    if (ms >= size) {
      Append(&out, ms / size, name);
      ms %= size;
    }
  }
  return out;
}

std::string OffsetString(int64_t ms) {
  if (ms == 0) return "";
  return Cat(" offset ", DurationString(ms));
}

std::string SelectorString(const VectorSelector& vs) {
  std::vector<std::string> parts;
  for (const Matcher& m : vs.matchers) {
    if (!vs.name.empty() && m.name() == base::kMetricName &&
        m.type() == MatchType::kEqual && m.value() == vs.name) {
      continue;
    }
    parts.push_back(m.ToString());
  }
  // Prometheus prints matchers sorted as strings.
  std::sort(parts.begin(), parts.end());
  std::string s = vs.name;
  if (!parts.empty() || vs.name.empty()) {
    Append(&s, "{", absl::StrJoin(parts, ","), "}");
  }
  return s;
}

std::string QuoteString(const std::string& v) {
  std::string out = "\"";
  for (char c : v) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out.push_back(c);
    }
  }
  out += "\"";
  return out;
}

// " bool on (a) group_left (b)": what follows a binary operator.
std::string MatchingString(const BinaryExpr& b) {
  std::string s;
  if (b.return_bool) s += " bool";
  if (b.matching && (b.matching->on || !b.matching->labels.empty())) {
    const VectorMatching& vm = *b.matching;
    Append(&s, vm.on ? " on (" : " ignoring (", absl::StrJoin(vm.labels, ", "),
           ")");
    if (vm.card == Cardinality::kManyToOne ||
        vm.card == Cardinality::kOneToMany) {
      Append(&s,
             vm.card == Cardinality::kManyToOne ? " group_left ("
                                                : " group_right (",
             absl::StrJoin(vm.include, ", "), ")");
    }
  }
  return s;
}

// "sum by (a) ": Prometheus prints `by ()` as nothing but keeps
// `without ()`.
std::string AggPrefix(const AggregateExpr& a) {
  std::string s(AggOpString(a.op));
  if (a.without || !a.grouping.empty()) {
    Append(&s, a.without ? " without (" : " by (",
           absl::StrJoin(a.grouping, ", "), ") ");
  }
  return s;
}

std::string SubquerySuffix(const SubqueryExpr& sq) {
  return Cat("[", DurationString(sq.range_ms), ":",
             sq.step_ms ? DurationString(sq.step_ms) : "", "]",
             AtString(sq.at, sq.at_ms), OffsetString(sq.offset_ms));
}

}  // namespace

std::string Expr::String() const {
  switch (kind) {
    case NodeKind::kNumber:
      return FormatNumber(static_cast<const NumberLiteral*>(this)->value);
    case NodeKind::kString:
      return QuoteString(static_cast<const StringLiteral*>(this)->value);
    case NodeKind::kParen:
      return Cat("(", static_cast<const ParenExpr*>(this)->expr->String(), ")");
    case NodeKind::kUnary: {
      auto* u = static_cast<const UnaryExpr*>(this);
      return Cat(OpString(u->op), u->expr->String());
    }
    case NodeKind::kBinary: {
      auto* b = static_cast<const BinaryExpr*>(this);
      return Cat(b->lhs->String(), " ", OpString(b->op), MatchingString(*b),
                 " ", b->rhs->String());
    }
    case NodeKind::kVectorSelector: {
      auto* vs = static_cast<const VectorSelector*>(this);
      return Cat(SelectorString(*vs), AtString(vs->at, vs->at_ms),
                 OffsetString(vs->offset_ms));
    }
    case NodeKind::kMatrixSelector: {
      auto* m = static_cast<const MatrixSelector*>(this);
      const VectorSelector& vs = m->selector();
      return Cat(SelectorString(vs), "[", DurationString(m->range_ms), "]",
                 AtString(vs.at, vs.at_ms), OffsetString(vs.offset_ms));
    }
    case NodeKind::kSubquery: {
      auto* sq = static_cast<const SubqueryExpr*>(this);
      return Cat(sq->expr->String(), SubquerySuffix(*sq));
    }
    case NodeKind::kCall: {
      auto* c = static_cast<const Call*>(this);
      std::vector<std::string> args;
      for (const auto& a : c->args) args.push_back(a->String());
      return Cat(c->func->name, "(", absl::StrJoin(args, ", "), ")");
    }
    case NodeKind::kAggregate: {
      auto* a = static_cast<const AggregateExpr*>(this);
      std::string s = AggPrefix(*a) + "(";
      if (a->param) Append(&s, a->param->String(), ", ");
      Append(&s, a->expr->String(), ")");
      return s;
    }
  }
  return "";
}

std::string Expr::Pretty(int level) const {
  // Prometheus's prettier: a node that fits in 100 characters stays on one
  // line; a longer one puts its children on their own, indented lines.
  constexpr size_t kMaxLine = 100;
  const std::string indent(2 * level, ' ');
  std::string flat = String();
  switch (kind) {
    case NodeKind::kUnary: {
      auto* u = static_cast<const UnaryExpr*>(this);
      std::string child = u->expr->Pretty(level);
      size_t first = child.find_first_not_of(" \n\t");
      size_t last = child.find_last_not_of(" \n\t");
      child = first == std::string::npos
                  ? ""
                  : child.substr(first, last - first + 1);
      return Cat(indent, OpString(u->op), child);
    }
    case NodeKind::kSubquery: {
      if (flat.size() <= kMaxLine) return flat;
      auto* sq = static_cast<const SubqueryExpr*>(this);
      return Cat(sq->expr->Pretty(level), SubquerySuffix(*sq));
    }
    default:
      break;
  }
  if (flat.size() <= kMaxLine) return indent + flat;
  switch (kind) {
    case NodeKind::kParen:
      return Cat(indent, "(\n",
                 static_cast<const ParenExpr*>(this)->expr->Pretty(level + 1),
                 "\n", indent, ")");
    case NodeKind::kBinary: {
      auto* b = static_cast<const BinaryExpr*>(this);
      return Cat(b->lhs->Pretty(level + 1), "\n", indent, OpString(b->op),
                 MatchingString(*b), "\n", b->rhs->Pretty(level + 1));
    }
    case NodeKind::kCall: {
      auto* c = static_cast<const Call*>(this);
      std::vector<std::string> args;
      for (const auto& a : c->args) args.push_back(a->Pretty(level + 1));
      return Cat(indent, c->func->name, "(\n", absl::StrJoin(args, ",\n"), "\n",
                 indent, ")");
    }
    case NodeKind::kAggregate: {
      auto* a = static_cast<const AggregateExpr*>(this);
      std::string s = Cat(indent, AggPrefix(*a), "(\n");
      if (a->param) Append(&s, a->param->Pretty(level + 1), ",\n");
      Append(&s, a->expr->Pretty(level + 1), "\n", indent, ")");
      return s;
    }
    default:
      return indent + flat;
  }
}

namespace {
void Collect(const Expr& e, std::vector<const VectorSelector*>* out) {
  switch (e.kind) {
    case NodeKind::kVectorSelector:
      out->push_back(static_cast<const VectorSelector*>(&e));
      break;
    case NodeKind::kMatrixSelector:
      Collect(*static_cast<const MatrixSelector&>(e).vs, out);
      break;
    case NodeKind::kParen:
      Collect(*static_cast<const ParenExpr&>(e).expr, out);
      break;
    case NodeKind::kUnary:
      Collect(*static_cast<const UnaryExpr&>(e).expr, out);
      break;
    case NodeKind::kBinary:
      Collect(*static_cast<const BinaryExpr&>(e).lhs, out);
      Collect(*static_cast<const BinaryExpr&>(e).rhs, out);
      break;
    case NodeKind::kSubquery:
      Collect(*static_cast<const SubqueryExpr&>(e).expr, out);
      break;
    case NodeKind::kCall:
      for (const auto& a : static_cast<const Call&>(e).args) Collect(*a, out);
      break;
    case NodeKind::kAggregate: {
      auto& a = static_cast<const AggregateExpr&>(e);
      if (a.param) Collect(*a.param, out);
      Collect(*a.expr, out);
      break;
    }
    default:
      break;
  }
}
}  // namespace

std::vector<const VectorSelector*> CollectSelectors(const Expr& e) {
  std::vector<const VectorSelector*> out;
  Collect(e, &out);
  return out;
}

}  // namespace pantau::metrics::promql
