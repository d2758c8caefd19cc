#include "metrics/promql/testing/script.h"

#include <cmath>
#include <cstdlib>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "base/strings.h"
#include "metrics/promql/engine.h"
#include "metrics/promql/functions.h"
#include "metrics/promql/parser.h"
#include "metrics/promql/str_util.h"
#include "metrics/promql/testing/memory_queryable.h"

namespace pantau::metrics::promql::testing {
namespace {

constexpr double kEpsilon = 1e-6;

bool AlmostEqual(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  double diff = std::fabs(a - b);
  const double min_normal = 2.2250738585072014e-308;
  if (a == 0 || b == 0 || diff < min_normal)
    return diff < kEpsilon * min_normal;
  return diff / (std::fabs(a) + std::fabs(b)) < kEpsilon;
}

bool ParseNumber(absl::string_view s, double* out) {
  std::string str(absl::StripAsciiWhitespace(s));
  std::string lower = absl::AsciiStrToLower(str);
  absl::string_view body = lower;
  double sign = 1;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    sign = body[0] == '-' ? -1 : 1;
    body.remove_prefix(1);
  }
  if (body == "inf") {
    *out = sign * INFINITY;
    return true;
  }
  if (body == "nan") {
    *out = NAN;
    return true;
  }
  if (str.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

// Splits "metric{a="b c"} 1 2 3" into the descriptor and the rest.
bool SplitSeriesLine(absl::string_view line, absl::string_view* desc,
                     absl::string_view* rest) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ' &&
         line[i] != '\t') {
    ++i;
  }
  if (i < line.size() && line[i] == '{') {
    char quote = 0;
    for (; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == '\\') {
          ++i;
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '\'' || c == '`') {
        quote = c;
      } else if (c == '}') {
        ++i;
        break;
      }
    }
  }
  *desc = line.substr(0, i);
  *rest = i < line.size() ? line.substr(i) : absl::string_view();
  return !desc->empty();
}

absl::StatusOr<base::Labels> ParseLabels(absl::string_view desc) {
  if (desc == "{}") return base::Labels();
  auto ms = ParseMetricSelector(base::StdSv(desc));
  if (!ms.ok()) return ms.status();
  std::vector<base::Label> pairs;
  for (const Matcher& m : *ms) {
    if (m.type() != MatchType::kEqual) {
      return absl::InvalidArgumentError("only = allowed in series");
    }
    pairs.push_back(base::Label{m.name(), m.value()});
  }
  return base::Labels::FromPairs(std::move(pairs));
}

// One value item of a series line; nullopt entries are gaps.
absl::Status ExpandValues(absl::string_view rest,
                          std::vector<std::optional<double>>* out) {
  for (absl::string_view tok :
       absl::StrSplit(rest, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
    if (tok == "_") {
      out->push_back(std::nullopt);
      continue;
    }
    if (tok == "stale") {
      out->push_back(StaleNaN());
      continue;
    }
    size_t x = tok.rfind('x');
    if (tok.size() > 2 && tok[0] == '_' && tok[1] == 'x') {
      int n;
      if (!absl::SimpleAtoi(tok.substr(2), &n)) {
        return absl::InvalidArgumentError(Cat("bad item ", tok));
      }
      for (int i = 0; i < n; ++i) out->push_back(std::nullopt);
      continue;
    }
    double v;
    if (x == absl::string_view::npos) {
      if (!ParseNumber(tok, &v)) {
        return absl::InvalidArgumentError(Cat("bad value ", tok));
      }
      out->push_back(v);
      continue;
    }
    int n;
    if (!absl::SimpleAtoi(tok.substr(x + 1), &n)) {
      return absl::InvalidArgumentError(Cat("bad item ", tok));
    }
    absl::string_view head = tok.substr(0, x);
    // a+b or a-b: the operator is a sign not at the start nor after 'e'.
    size_t op = absl::string_view::npos;
    for (size_t i = 1; i < head.size(); ++i) {
      if ((head[i] == '+' || head[i] == '-') && head[i - 1] != 'e' &&
          head[i - 1] != 'E') {
        op = i;
      }
    }
    double a, b = 0;
    if (op == absl::string_view::npos) {
      if (!ParseNumber(head, &a)) {
        return absl::InvalidArgumentError(Cat("bad item ", tok));
      }
    } else {
      if (!ParseNumber(head.substr(0, op), &a) ||
          !ParseNumber(head.substr(op), &b)) {
        return absl::InvalidArgumentError(Cat("bad item ", tok));
      }
    }
    for (int i = 0; i <= n; ++i) {
      out->push_back(a);
      a += b;
    }
  }
  return absl::OkStatus();
}

struct Expected {
  bool scalar = false;
  double value = 0;
  base::Labels labels;
};

struct EvalCase {
  int line = 0;
  std::string expr;
  int64_t at_ms = 0;
  bool ordered = false;
  bool fail = false;
  std::vector<Expected> expected;
};

std::string FormatValue(double v) { return Cat(v); }

// Compares a query result with the expectations; "" when equal.
std::string Compare(const EvalCase& c, const Value& got) {
  if (got.type == ValueType::kScalar) {
    if (c.expected.size() != 1 || !c.expected[0].scalar) {
      return "got a scalar, expected a vector";
    }
    if (!AlmostEqual(got.scalar().v, c.expected[0].value)) {
      return Cat("expected scalar ", FormatValue(c.expected[0].value),
                 " but got ", FormatValue(got.scalar().v));
    }
    return "";
  }
  if (got.type != ValueType::kVector) {
    return Cat("unexpected result type ", ValueTypeName(got.type));
  }
  const Vector& v = got.vector();
  if (!c.expected.empty() && c.expected[0].scalar) {
    return "got a vector, expected a scalar";
  }
  if (v.size() != c.expected.size()) {
    std::string s =
        Cat("expected ", c.expected.size(), " samples, got ", v.size(), ":");
    for (const auto& x : v) {
      Append(&s, " ", x.labels.ToString(), "=", FormatValue(x.v));
    }
    return s;
  }
  for (size_t i = 0; i < v.size(); ++i) {
    size_t found = c.expected.size();
    for (size_t j = 0; j < c.expected.size(); ++j) {
      if (c.expected[j].labels == v[i].labels) found = j;
    }
    if (found == c.expected.size()) {
      return Cat("unexpected sample ", v[i].labels.ToString(), " ",
                 FormatValue(v[i].v));
    }
    if (c.ordered && found != i) {
      return Cat("sample ", v[i].labels.ToString(), " at position ", i,
                 ", expected ", found);
    }
    if (!AlmostEqual(v[i].v, c.expected[found].value)) {
      return Cat("for ", v[i].labels.ToString(), " expected ",
                 FormatValue(c.expected[found].value), " got ",
                 FormatValue(v[i].v));
    }
  }
  return "";
}

// Functions whose results depend on the evaluation time itself, so pinning
// selectors with @ does not make the query step-invariant.
bool AtUnsafe(const Expr& e) {
  bool unsafe = false;
  std::vector<const Expr*> stack = {&e};
  while (!stack.empty()) {
    const Expr* n = stack.back();
    stack.pop_back();
    switch (n->kind) {
      case NodeKind::kCall: {
        auto* c = static_cast<const Call*>(n);
        static const char* kUnsafe[] = {
            "days_in_month",  "day_of_month", "day_of_week", "day_of_year",
            "hour",           "minute",       "month",       "year",
            "predict_linear", "time",         "timestamp"};
        for (const char* u : kUnsafe) unsafe |= c->func->name == u;
        for (const auto& a : c->args) stack.push_back(a.get());
        break;
      }
      case NodeKind::kParen:
        stack.push_back(static_cast<const ParenExpr*>(n)->expr.get());
        break;
      case NodeKind::kUnary:
        stack.push_back(static_cast<const UnaryExpr*>(n)->expr.get());
        break;
      case NodeKind::kBinary:
        stack.push_back(static_cast<const BinaryExpr*>(n)->lhs.get());
        stack.push_back(static_cast<const BinaryExpr*>(n)->rhs.get());
        break;
      case NodeKind::kAggregate:
        if (static_cast<const AggregateExpr*>(n)->param) {
          stack.push_back(static_cast<const AggregateExpr*>(n)->param.get());
        }
        stack.push_back(static_cast<const AggregateExpr*>(n)->expr.get());
        break;
      case NodeKind::kSubquery:
        stack.push_back(static_cast<const SubqueryExpr*>(n)->expr.get());
        break;
      default:
        break;
    }
  }
  return unsafe;
}

// Sets `@ ts` on every selector and subquery that has none; below a
// subquery that has one, nothing changes.
void PinAt(Expr* e, int64_t ts) {
  switch (e->kind) {
    case NodeKind::kVectorSelector: {
      auto* vs = static_cast<VectorSelector*>(e);
      if (vs->at == AtKind::kNone) {
        vs->at = AtKind::kTimestamp;
        vs->at_ms = ts;
      }
      break;
    }
    case NodeKind::kMatrixSelector:
      PinAt(static_cast<MatrixSelector*>(e)->vs.get(), ts);
      break;
    case NodeKind::kSubquery: {
      auto* sq = static_cast<SubqueryExpr*>(e);
      if (sq->at == AtKind::kNone) {
        sq->at = AtKind::kTimestamp;
        sq->at_ms = ts;
      }
      break;
    }
    case NodeKind::kParen:
      PinAt(static_cast<ParenExpr*>(e)->expr.get(), ts);
      break;
    case NodeKind::kUnary:
      PinAt(static_cast<UnaryExpr*>(e)->expr.get(), ts);
      break;
    case NodeKind::kBinary:
      PinAt(static_cast<BinaryExpr*>(e)->lhs.get(), ts);
      PinAt(static_cast<BinaryExpr*>(e)->rhs.get(), ts);
      break;
    case NodeKind::kCall:
      for (auto& a : static_cast<Call*>(e)->args) PinAt(a.get(), ts);
      break;
    case NodeKind::kAggregate: {
      auto* a = static_cast<AggregateExpr*>(e);
      if (a->param) PinAt(a->param.get(), ts);
      PinAt(a->expr.get(), ts);
      break;
    }
    default:
      break;
  }
}

// Runs one query as instant and as range query around its time; "" if all
// agree with the expectations.
std::string RunOne(const Engine& engine, MemoryQueryable& store,
                   const EvalCase& c, const std::string& expr, int64_t ts) {
  auto res = engine.InstantQuery(store, expr, ts);
  if (c.fail) {
    return res.ok() ? Cat("expected an error for ", expr) : "";
  }
  if (!res.ok()) {
    return Cat("error for ", expr, ": ", res.status().message());
  }
  std::string err = Compare(c, res->value);
  if (!err.empty()) return Cat(expr, " @", ts, "ms: ", err);
  if (c.ordered || res->value.type == ValueType::kMatrix) return "";
  // The same query in range mode must give the same middle step.
  auto range = engine.RangeQuery(store, expr, ts - 60000, ts + 60000, 60000);
  if (!range.ok()) {
    return Cat("range mode error for ", expr, ": ", range.status().message());
  }
  Value vec;
  vec.type = ValueType::kVector;
  Vector v;
  for (const Series& s : range->value.matrix()) {
    for (const Point& p : s.points) {
      if (p.t == ts) v.push_back(VectorSample{s.labels, ts, p.v});
    }
  }
  if (res->value.type == ValueType::kScalar) {
    vec.type = ValueType::kScalar;
    vec.data = Scalar{ts, v.empty() ? NAN : v[0].v};
  } else {
    vec.data = std::move(v);
  }
  err = Compare(c, vec);
  if (!err.empty()) return Cat(expr, " (range mode): ", err);
  return "";
}

std::string RunCase(const Engine& engine, MemoryQueryable& store,
                    const EvalCase& c) {
  std::string err = RunOne(engine, store, c, c.expr, c.at_ms);
  if (!err.empty()) return err;
  auto parsed = ParseExpr(c.expr);
  if (!parsed.ok() || AtUnsafe(**parsed)) return "";
  PinAt(parsed->get(), c.at_ms);
  std::string pinned = (*parsed)->String();
  std::vector<int64_t> times = {-10 * c.at_ms, 0, c.at_ms / 5, c.at_ms,
                                10 * c.at_ms};
  if (c.at_ms == 0) times = {0, 10, 100, 1000, 10000, 100000};
  for (int64_t t : times) {
    err = RunOne(engine, store, c, pinned, t);
    if (!err.empty()) return Cat("[@-pinned] ", err);
  }
  return "";
}

}  // namespace

ScriptResult RunScript(std::string_view content) {
  ScriptResult result;
  EngineOptions opts;
  opts.max_samples = 10'000'000;
  opts.default_subquery_step_ms = 60'000;
  Engine engine(opts);
  MemoryQueryable store;
  std::vector<absl::string_view> lines =
      absl::StrSplit(base::Sv(content), '\n');
  auto fail = [&](int line, std::string msg) {
    result.failed++;
    result.failures.push_back(Cat("line ", line, ": ", msg));
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view raw = lines[i];
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    const int lineno = static_cast<int>(i) + 1;
    if (line == "clear") {
      store.Clear();
      continue;
    }
    if (absl::StartsWith(line, "load ")) {
      auto step = ParseDurationMs(
          base::StdSv(absl::StripAsciiWhitespace(line.substr(5))));
      if (!step.ok()) {
        fail(lineno, "bad load step");
        continue;
      }
      while (i + 1 < lines.size()) {
        absl::string_view next = lines[i + 1];
        absl::string_view body = absl::StripAsciiWhitespace(next);
        if (body.empty() || !(next[0] == ' ' || next[0] == '\t')) break;
        ++i;
        absl::string_view desc, rest;
        SplitSeriesLine(body, &desc, &rest);
        auto labels = ParseLabels(desc);
        std::vector<std::optional<double>> vals;
        absl::Status st =
            labels.ok() ? ExpandValues(rest, &vals) : labels.status();
        if (!st.ok()) {
          fail(static_cast<int>(i) + 1, std::string(st.message()));
          continue;
        }
        for (size_t k = 0; k < vals.size(); ++k) {
          if (vals[k]) {
            store.Add(*labels, static_cast<int64_t>(k) * *step, *vals[k]);
          }
        }
      }
      continue;
    }
    EvalCase c;
    c.line = lineno;
    absl::string_view rest;
    if (absl::StartsWith(line, "eval_ordered ")) {
      c.ordered = true;
      rest = line.substr(13);
    } else if (absl::StartsWith(line, "eval_fail ")) {
      c.fail = true;
      rest = line.substr(10);
    } else if (absl::StartsWith(line, "eval ")) {
      rest = line.substr(5);
    } else {
      fail(lineno, Cat("unknown command: ", line));
      continue;
    }
    rest = absl::StripAsciiWhitespace(rest);
    if (!absl::ConsumePrefix(&rest, "instant at ")) {
      fail(lineno, "only instant evaluation is supported");
      continue;
    }
    size_t sp = rest.find(' ');
    auto at = ParseDurationMs(base::StdSv(rest.substr(0, sp)));
    if (!at.ok() || sp == absl::string_view::npos) {
      fail(lineno, "bad evaluation time");
      continue;
    }
    c.at_ms = *at;
    c.expr = std::string(absl::StripAsciiWhitespace(rest.substr(sp)));
    bool bad = false;
    while (i + 1 < lines.size()) {
      absl::string_view next = lines[i + 1];
      absl::string_view body = absl::StripAsciiWhitespace(next);
      if (body.empty() || !(next[0] == ' ' || next[0] == '\t')) break;
      ++i;
      Expected e;
      if (ParseNumber(body, &e.value)) {
        e.scalar = true;
        c.expected.push_back(e);
        continue;
      }
      absl::string_view desc, vals;
      SplitSeriesLine(body, &desc, &vals);
      auto labels = ParseLabels(desc);
      if (!labels.ok() || !ParseNumber(vals, &e.value)) {
        fail(static_cast<int>(i) + 1, Cat("bad expectation: ", body));
        bad = true;
        break;
      }
      e.labels = *labels;
      c.expected.push_back(e);
    }
    if (bad) continue;
    std::string err = RunCase(engine, store, c);
    if (err.empty()) {
      result.passed++;
    } else {
      fail(lineno, err);
    }
  }
  return result;
}

}  // namespace pantau::metrics::promql::testing
