// Parsing of PromQL's terms: selectors and their matchers, aggregations,
// function calls, and the type checks of binary operations; plus literal
// numbers and durations.
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "metrics/promql/functions.h"
#include "metrics/promql/parser.h"
#include "metrics/promql/parser_internal.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {
namespace internal {

bool IsLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string TokDesc(const Token& t) {
  switch (t.type) {
    case Tok::kEOF:
      return "end of input";
    case Tok::kIdentifier:
      return Cat("identifier \"", t.text, "\"");
    case Tok::kMetricIdentifier:
      return Cat("metric identifier \"", t.text, "\"");
    case Tok::kNumber:
      return Cat("number \"", t.text, "\"");
    case Tok::kDuration:
      return Cat("duration \"", t.text, "\"");
    case Tok::kString:
      return Cat("string ", t.text);
    case Tok::kLeftParen:
      return "\"(\"";
    case Tok::kRightParen:
      return "\")\"";
    case Tok::kLeftBrace:
      return "\"{\"";
    case Tok::kRightBrace:
      return "\"}\"";
    case Tok::kLeftBracket:
      return "\"[\"";
    case Tok::kRightBracket:
      return "\"]\"";
    case Tok::kComma:
      return "\",\"";
    case Tok::kColon:
      return "\":\"";
    case Tok::kAt:
      return "\"@\"";
    case Tok::kAssign:
      return "\"=\"";
    case Tok::kBy:
    case Tok::kWithout:
    case Tok::kOn:
    case Tok::kIgnoring:
    case Tok::kGroupLeft:
    case Tok::kGroupRight:
    case Tok::kBool:
    case Tok::kOffset:
    case Tok::kStart:
    case Tok::kEnd:
      return Cat("keyword \"", t.text, "\"");
    case Tok::kAggregator:
      return Cat("aggregator \"", t.text, "\"");
    default:
      return Cat("operator \"", t.text, "\"");
  }
}

ExprPtr Parser::ParseSelector(std::string name, int start) {
  auto vs = std::make_unique<VectorSelector>();
  vs->name = name;
  int end = start + static_cast<int>(name.size());
  if (cur_.type == Tok::kLeftBrace) {
    Advance();
    while (ok_ && cur_.type != Tok::kRightBrace) {
      if (!IsLabelName(cur_.text) || cur_.type == Tok::kString) {
        Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                           " in label matching, expected label"));
        return nullptr;
      }
      std::string lname(cur_.text);
      int lpos = cur_.pos;
      Advance();
      MatchType mt;
      switch (cur_.type) {
        case Tok::kAssign:
          mt = MatchType::kEqual;
          break;
        case Tok::kNeq:
          mt = MatchType::kNotEqual;
          break;
        case Tok::kEqlRegex:
          mt = MatchType::kRegexMatch;
          break;
        case Tok::kNeqRegex:
          mt = MatchType::kRegexNoMatch;
          break;
        default:
          Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                             " in label matching, expected label "
                             "matching operator"));
          return nullptr;
      }
      Advance();
      if (cur_.type != Tok::kString) {
        Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                           " in label matching, expected string"));
        return nullptr;
      }
      std::string value, err;
      if (!UnquoteString(cur_.text, &value, &err)) {
        Fail(cur_.pos, err);
        return nullptr;
      }
      Advance();
      auto m = Matcher::Create(mt, lname, value);
      if (!m.ok()) {
        Fail(lpos, std::string(m.status().message()));
        return nullptr;
      }
      if (lname == base::kMetricName && !name.empty()) {
        Fail(lpos, Cat("metric name must not be set twice: \"", name,
                       "\" or \"", value, "\""));
        return nullptr;
      }
      vs->matchers.push_back(*std::move(m));
      if (cur_.type == Tok::kComma) {
        Advance();
      } else if (cur_.type != Tok::kRightBrace) {
        Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                           " in label matching, expected \",\" "
                           "or \"}\""));
        return nullptr;
      }
    }
    if (!ok_) return nullptr;
    end = cur_.pos + 1;
    Advance();
  }
  if (!name.empty()) {
    vs->matchers.insert(
        vs->matchers.begin(),
        Matcher::Must(MatchType::kEqual, std::string(base::kMetricName), name));
  }
  bool non_empty = false;
  for (const Matcher& m : vs->matchers) non_empty |= !m.MatchesEmpty();
  if (!non_empty) {
    Fail(start,
         "vector selector must contain at least one non-empty "
         "matcher");
    return nullptr;
  }
  vs->pos = {start, end};
  return vs;
}

void Parser::ParseGrouping(AggregateExpr* agg) {
  agg->without = cur_.type == Tok::kWithout;
  agg->has_grouping = true;
  Advance();
  agg->grouping = ParseLabelList("grouping opts");
}

ExprPtr Parser::ParseAggregate() {
  Token t = cur_;
  Advance();
  auto agg = std::make_unique<AggregateExpr>();
  std::string op = absl::AsciiStrToLower(base::Sv(t.text));
  static const std::pair<const char*, AggOp> kOps[] = {
      {"sum", AggOp::kSum},
      {"avg", AggOp::kAvg},
      {"count", AggOp::kCount},
      {"min", AggOp::kMin},
      {"max", AggOp::kMax},
      {"group", AggOp::kGroup},
      {"stddev", AggOp::kStddev},
      {"stdvar", AggOp::kStdvar},
      {"topk", AggOp::kTopk},
      {"bottomk", AggOp::kBottomk},
      {"count_values", AggOp::kCountValues},
      {"quantile", AggOp::kQuantile}};
  for (const auto& [n, o] : kOps) {
    if (op == n) agg->op = o;
  }
  if (cur_.type == Tok::kBy || cur_.type == Tok::kWithout) {
    ParseGrouping(agg.get());
  }
  if (!ok_) return nullptr;
  if (cur_.type != Tok::kLeftParen) {
    Fail(cur_.pos,
         Cat("unexpected ", TokDesc(cur_), " in aggregation, expected \"(\""));
    return nullptr;
  }
  int lp = cur_.pos;
  Advance();
  std::vector<ExprPtr> args;
  while (ok_ && cur_.type != Tok::kRightParen) {
    args.push_back(ParseBinary(1));
    if (!ok_) return nullptr;
    if (cur_.type == Tok::kComma) {
      Advance();
    } else if (cur_.type != Tok::kRightParen) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                         " in aggregation, expected \",\" or "
                         "\")\""));
      return nullptr;
    }
  }
  if (!ok_) return nullptr;
  int end = cur_.pos + 1;
  Advance();
  if (cur_.type == Tok::kBy || cur_.type == Tok::kWithout) {
    if (agg->has_grouping) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_)));
      return nullptr;
    }
    ParseGrouping(agg.get());
    end = cur_.pos;
  }
  if (!ok_) return nullptr;
  bool has_param = agg->op == AggOp::kTopk || agg->op == AggOp::kBottomk ||
                   agg->op == AggOp::kQuantile ||
                   agg->op == AggOp::kCountValues;
  size_t want = has_param ? 2 : 1;
  if (args.empty()) {
    Fail(lp, "no arguments for aggregate expression provided");
    return nullptr;
  }
  if (args.size() != want) {
    Fail(lp, Cat("wrong number of arguments for aggregate "
                 "expression provided, expected ",
                 want, ", got ", args.size()));
    return nullptr;
  }
  if (has_param) agg->param = std::move(args[0]);
  agg->expr = std::move(args.back());
  if (agg->expr->type() != ValueType::kVector) {
    Fail(agg->expr->pos.start,
         Cat("expected type instant vector in aggregation "
             "expression, got ",
             ValueTypeName(agg->expr->type())));
    return nullptr;
  }
  if (agg->param) {
    ValueType want_t = agg->op == AggOp::kCountValues ? ValueType::kString
                                                      : ValueType::kScalar;
    if (agg->param->type() != want_t) {
      Fail(agg->param->pos.start, Cat("expected type ", ValueTypeName(want_t),
                                      " in aggregation parameter, got ",
                                      ValueTypeName(agg->param->type())));
      return nullptr;
    }
  }
  agg->pos = {t.pos, end};
  if (!Finish(agg.get())) return nullptr;
  return agg;
}

ExprPtr Parser::ParseCall(const Token& name) {
  const FunctionDef* f = FindFunction(name.text);
  if (f == nullptr) {
    Fail(name.pos, Cat("unknown function with name \"", name.text, "\""));
    return nullptr;
  }
  Advance();  // (
  auto call = std::make_unique<Call>();
  call->func = f;
  while (ok_ && cur_.type != Tok::kRightParen) {
    call->args.push_back(ParseBinary(1));
    if (!ok_) return nullptr;
    if (cur_.type == Tok::kComma) {
      Advance();
    } else if (cur_.type != Tok::kRightParen) {
      Fail(cur_.pos,
           Cat("unexpected ", TokDesc(cur_), " in call to function \"", f->name,
               "\", expected \",\" or \")\""));
      return nullptr;
    }
  }
  if (!ok_) return nullptr;
  call->pos = {name.pos, cur_.pos + 1};
  Advance();
  const int n = static_cast<int>(call->args.size());
  const int want = static_cast<int>(f->arg_types.size());
  if (f->variadic == 0 && n != want) {
    Fail(call->pos.start, Cat("expected ", want, " argument(s) in call to \"",
                              f->name, "\", got ", n));
    return nullptr;
  }
  if (f->variadic > 0) {
    int min = want - f->variadic;
    if (n < min) {
      Fail(call->pos.start,
           Cat("expected at least ", min, " argument(s) in call to \"", f->name,
               "\", got ", n));
      return nullptr;
    }
    if (n > want) {
      Fail(call->pos.start,
           Cat("expected at most ", want, " argument(s) in call to \"", f->name,
               "\", got ", n));
      return nullptr;
    }
  }
  if (f->variadic < 0 && n < want - 1) {
    Fail(call->pos.start,
         Cat("expected at least ", want - 1, " argument(s) in call to \"",
             f->name, "\", got ", n));
    return nullptr;
  }
  for (int i = 0; i < n; ++i) {
    ValueType expect = f->arg_types[std::min(i, want - 1)];
    ValueType got = call->args[i]->type();
    if (got != expect) {
      Fail(call->args[i]->pos.start,
           Cat("expected type ", ValueTypeName(expect),
               " in call to function \"", f->name, "\", got ",
               ValueTypeName(got)));
      return nullptr;
    }
  }
  if (!Finish(call.get())) return nullptr;
  return call;
}

void Parser::CheckBinary(BinaryExpr* b, int op_pos) {
  ValueType lt = b->lhs->type(), rt = b->rhs->type();
  auto ok_type = [](ValueType t) {
    return t == ValueType::kScalar || t == ValueType::kVector;
  };
  if (!ok_type(lt) || !ok_type(rt)) {
    // Prometheus points at the offending operand, not the operator.
    Fail(!ok_type(lt) ? b->lhs->pos.start : b->rhs->pos.start,
         "binary expression must contain only scalar and instant "
         "vector types");
    return;
  }
  bool cmp = IsComparison(b->op);
  if (b->return_bool && !cmp) {
    Fail(op_pos, "bool modifier can only be used on comparison operators");
    return;
  }
  if (cmp && lt == ValueType::kScalar && rt == ValueType::kScalar &&
      !b->return_bool) {
    Fail(op_pos, "comparisons between scalars must use BOOL modifier");
    return;
  }
  bool both_vectors = lt == ValueType::kVector && rt == ValueType::kVector;
  if (IsSetOp(b->op) && !both_vectors) {
    Fail(op_pos, Cat("set operator \"", OpString(b->op),
                     "\" not allowed in binary scalar expression"));
    return;
  }
  if (b->matching.has_value() && !both_vectors) {
    Fail(op_pos, "vector matching only allowed between instant vectors");
    return;
  }
  if (!both_vectors) return;
  if (!b->matching.has_value()) b->matching.emplace();
  VectorMatching& vm = *b->matching;
  if (IsSetOp(b->op)) {
    if (vm.card == Cardinality::kManyToOne ||
        vm.card == Cardinality::kOneToMany) {
      Fail(op_pos,
           Cat("no grouping allowed for \"", OpString(b->op), "\" operation"));
      return;
    }
    vm.card = Cardinality::kManyToMany;
  }
  if (vm.on) {
    for (const auto& l : vm.include) {
      for (const auto& m : vm.labels) {
        if (l == m) {
          Fail(op_pos, Cat("label \"", l,
                           "\" must not occur in ON and GROUP "
                           "clause at once"));
          return;
        }
      }
    }
  }
}

int64_t Parser::Duration(const Token& t) {
  auto d = ParseDurationMs(t.text);
  if (!d.ok()) {
    Fail(t.pos, std::string(d.status().message()));
    return 0;
  }
  return *d;
}

double Parser::Number(const Token& t) {
  std::string s(t.text);
  std::string lower = absl::AsciiStrToLower(s);
  if (lower == "inf") return INFINITY;
  if (lower == "nan") return NAN;
  // Go's ParseInt(s, 0, 64) reads a leading 0 as octal.
  if (s.size() > 1 && s[0] == '0' &&
      s.find_first_not_of("01234567") == std::string::npos) {
    return static_cast<double>(std::strtoull(s.c_str(), nullptr, 8));
  }
  return std::strtod(s.c_str(), nullptr);
}

}  // namespace internal

absl::StatusOr<int64_t> ParseDurationMs(std::string_view s) {
  const auto& kUnits = kDurationUnits;
  auto bad = [&] {
    return absl::InvalidArgumentError(
        Cat("not a valid duration string: \"", s, "\""));
  };
  if (s.empty()) return bad();
  if (s == "0") return 0;
  int64_t total = 0;
  int last_unit = -1;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i || j - i > 15) return bad();
    int64_t n =
        std::strtoll(std::string(s.substr(i, j - i)).c_str(), nullptr, 10);
    size_t k = j;
    while (k < s.size() && !(s[k] >= '0' && s[k] <= '9')) ++k;
    std::string_view unit = s.substr(j, k - j);
    int u = -1;
    for (int x = 0; x < 7; ++x) {
      if (unit == kUnits[x].first) u = x;
    }
    if (u < 0 || u <= last_unit) return bad();
    last_unit = u;
    // Keep far from int64 limits so offsets and ranges can be added to
    // timestamps without overflow (about 290,000 years).
    constexpr int64_t kMax = int64_t{1} << 53;
    if (n > kMax / kUnits[u].second || total + n * kUnits[u].second > kMax) {
      return absl::InvalidArgumentError(
          Cat("duration out of range: \"", s, "\""));
    }
    total += n * kUnits[u].second;
    i = k;
  }
  return total;
}

}  // namespace pantau::metrics::promql
