// Recursive descent with precedence climbing; type checks happen as each
// node is built so errors point at the offending part of the query.
#include "metrics/promql/parser.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "metrics/promql/functions.h"
#include "metrics/promql/lexer.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {
namespace {

int Precedence(Tok t) {
  switch (t) {
    case Tok::kLor:
      return 1;
    case Tok::kLand:
    case Tok::kLunless:
      return 2;
    case Tok::kEqlC:
    case Tok::kNeq:
    case Tok::kGtr:
    case Tok::kLss:
    case Tok::kGte:
    case Tok::kLte:
      return 3;
    case Tok::kAdd:
    case Tok::kSub:
      return 4;
    case Tok::kMul:
    case Tok::kDiv:
    case Tok::kMod:
    case Tok::kAtan2:
      return 5;
    case Tok::kPow:
      return 6;
    default:
      return 0;
  }
}

Op TokToOp(Tok t) {
  switch (t) {
    case Tok::kLor:
      return Op::kOr;
    case Tok::kLand:
      return Op::kAnd;
    case Tok::kLunless:
      return Op::kUnless;
    case Tok::kEqlC:
      return Op::kEql;
    case Tok::kNeq:
      return Op::kNeq;
    case Tok::kGtr:
      return Op::kGtr;
    case Tok::kLss:
      return Op::kLss;
    case Tok::kGte:
      return Op::kGte;
    case Tok::kLte:
      return Op::kLte;
    case Tok::kAdd:
      return Op::kAdd;
    case Tok::kSub:
      return Op::kSub;
    case Tok::kMul:
      return Op::kMul;
    case Tok::kDiv:
      return Op::kDiv;
    case Tok::kMod:
      return Op::kMod;
    case Tok::kAtan2:
      return Op::kAtan2;
    default:
      return Op::kPow;
  }
}

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

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in), lex_(in) { Advance(); }

  absl::StatusOr<ExprPtr> ParseAll() {
    ExprPtr e = ParseBinary(1);
    if (ok_ && cur_.type != Tok::kEOF) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_)));
    }
    if (!ok_) return Status();
    return e;
  }

  absl::StatusOr<std::vector<Matcher>> ParseSelectorOnly() {
    ExprPtr e = ParsePrimary();
    if (ok_ && cur_.type != Tok::kEOF) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_)));
    }
    if (ok_ && (!e || e->kind != NodeKind::kVectorSelector)) {
      Fail(0, "expected vector selector");
    }
    if (!ok_) return Status();
    return static_cast<VectorSelector&>(*e).matchers;
  }

 private:
  absl::Status Status() const {
    int line = 1, col = 1;
    for (int i = 0; i < err_pos_ && i < static_cast<int>(in_.size()); ++i) {
      if (in_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return absl::InvalidArgumentError(
        Cat(line, ":", col, ": parse error: ", err_));
  }

  void Fail(int pos, std::string msg) {
    if (!ok_) return;
    ok_ = false;
    err_pos_ = pos;
    err_ = std::move(msg);
  }

  void Advance() {
    cur_ = lex_.Next();
    if (cur_.type == Tok::kError) Fail(cur_.pos, std::string(cur_.text));
  }

  bool Expect(Tok t, std::string_view ctx) {
    if (!ok_) return false;
    if (cur_.type != t) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_), " in ", ctx));
      return false;
    }
    Advance();
    return true;
  }

  ExprPtr ParseBinary(int min_prec) {
    ExprPtr lhs = ParseUnary();
    while (ok_) {
      int prec = Precedence(cur_.type);
      if (prec == 0 || prec < min_prec) break;
      Token op_tok = cur_;
      Advance();
      auto bin = std::make_unique<BinaryExpr>();
      bin->op = TokToOp(op_tok.type);
      if (op_tok.type == Tok::kPow) bin->op = Op::kPow;
      ParseBinaryModifiers(bin.get());
      if (!ok_) return nullptr;
      // `^` is right-associative; the rest are left-associative.
      ExprPtr rhs = ParseBinary(op_tok.type == Tok::kPow ? prec : prec + 1);
      if (!ok_) return nullptr;
      bin->pos = {lhs->pos.start, rhs->pos.end};
      bin->lhs = std::move(lhs);
      bin->rhs = std::move(rhs);
      CheckBinary(bin.get(), op_tok.pos);
      lhs = std::move(bin);
    }
    return ok_ ? std::move(lhs) : nullptr;
  }

  void ParseBinaryModifiers(BinaryExpr* bin) {
    if (cur_.type == Tok::kBool) {
      bin->return_bool = true;
      Advance();
    }
    if (cur_.type == Tok::kOn || cur_.type == Tok::kIgnoring) {
      VectorMatching vm;
      vm.on = cur_.type == Tok::kOn;
      Advance();
      vm.labels = ParseLabelList("grouping opts");
      if (cur_.type == Tok::kGroupLeft || cur_.type == Tok::kGroupRight) {
        vm.card = cur_.type == Tok::kGroupLeft ? Cardinality::kManyToOne
                                               : Cardinality::kOneToMany;
        Advance();
        if (cur_.type == Tok::kLeftParen) {
          vm.include = ParseLabelList("grouping opts");
        }
      }
      bin->matching = std::move(vm);
    } else if (cur_.type == Tok::kGroupLeft || cur_.type == Tok::kGroupRight) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_)));
    }
  }

  std::vector<std::string> ParseLabelList(std::string_view ctx) {
    std::vector<std::string> out;
    if (!Expect(Tok::kLeftParen, ctx)) return out;
    while (ok_ && cur_.type != Tok::kRightParen) {
      if (!IsLabelName(cur_.text) || cur_.type == Tok::kString ||
          cur_.type == Tok::kNumber) {
        Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_), " in ", ctx,
                           ", expected label"));
        return out;
      }
      out.emplace_back(cur_.text);
      Advance();
      if (cur_.type == Tok::kComma) {
        Advance();
      } else if (cur_.type != Tok::kRightParen) {
        Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_), " in ", ctx,
                           ", expected \",\" or \")\""));
        return out;
      }
    }
    Expect(Tok::kRightParen, ctx);
    return out;
  }

  ExprPtr ParseUnary() {
    if (!ok_) return nullptr;
    if (cur_.type == Tok::kAdd || cur_.type == Tok::kSub) {
      Token op = cur_;
      Advance();
      // Unary operators bind like `*`: tighter than `+`, looser than `^`.
      ExprPtr e = ParseBinary(6);
      if (!ok_) return nullptr;
      if (e->kind == NodeKind::kNumber) {
        auto& n = static_cast<NumberLiteral&>(*e);
        if (op.type == Tok::kSub) n.value = -n.value;
        n.pos.start = op.pos;
        return e;
      }
      ValueType t = e->type();
      if (t != ValueType::kScalar && t != ValueType::kVector) {
        Fail(op.pos, Cat("unary expression only allowed on "
                         "expressions of type scalar or instant "
                         "vector, got \"",
                         ValueTypeName(t), "\""));
        return nullptr;
      }
      auto u = std::make_unique<UnaryExpr>();
      u->op = op.type == Tok::kAdd ? Op::kAdd : Op::kSub;
      u->pos = {op.pos, e->pos.end};
      u->expr = std::move(e);
      return u;
    }
    ExprPtr e = ParsePrimary();
    if (!ok_) return nullptr;
    return ParsePostfix(std::move(e));
  }

  ExprPtr ParsePostfix(ExprPtr e) {
    while (ok_) {
      if (cur_.type == Tok::kLeftBracket) {
        e = ParseRangeOrSubquery(std::move(e));
      } else if (cur_.type == Tok::kOffset) {
        int at = cur_.pos;
        Advance();
        bool neg = false;
        if (cur_.type == Tok::kSub || cur_.type == Tok::kAdd) {
          neg = cur_.type == Tok::kSub;
          Advance();
        }
        if (cur_.type != Tok::kDuration) {
          Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                             " in offset, expected duration"));
          return nullptr;
        }
        int64_t d = Duration(cur_);
        int end = cur_.pos + static_cast<int>(cur_.text.size());
        Advance();
        if (neg) d = -d;
        SetOffset(e.get(), d, at);
        if (ok_) e->pos.end = end;
      } else if (cur_.type == Tok::kAt) {
        int at = cur_.pos;
        Advance();
        AtKind kind = AtKind::kTimestamp;
        int64_t ms = 0;
        if (cur_.type == Tok::kStart || cur_.type == Tok::kEnd) {
          kind = cur_.type == Tok::kStart ? AtKind::kStart : AtKind::kEnd;
          Advance();
          Expect(Tok::kLeftParen, "@ modifier");
          if (!ok_) return nullptr;
          if (cur_.type != Tok::kRightParen) {
            Fail(cur_.pos,
                 Cat("unexpected ", TokDesc(cur_), " in @, expected \")\""));
            return nullptr;
          }
        } else {
          bool neg = false;
          if (cur_.type == Tok::kSub || cur_.type == Tok::kAdd) {
            neg = cur_.type == Tok::kSub;
            Advance();
          }
          if (cur_.type != Tok::kNumber) {
            Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                               " in @, expected timestamp"));
            return nullptr;
          }
          double v = Number(cur_);
          if (neg) v = -v;
          if (!std::isfinite(v) || std::fabs(v) > 9.2e15) {
            Fail(cur_.pos, "timestamp out of bounds for @ modifier");
            return nullptr;
          }
          ms = std::llround(v * 1000.0);
        }
        int end = cur_.pos + static_cast<int>(cur_.text.size());
        Advance();
        SetAt(e.get(), kind, ms, at);
        if (ok_) e->pos.end = end;
      } else {
        break;
      }
    }
    return ok_ ? std::move(e) : nullptr;
  }

  void SetOffset(Expr* e, int64_t d, int pos) {
    int64_t* target = nullptr;
    if (e->kind == NodeKind::kVectorSelector) {
      target = &static_cast<VectorSelector*>(e)->offset_ms;
    } else if (e->kind == NodeKind::kMatrixSelector) {
      auto* vs = static_cast<VectorSelector*>(
          static_cast<MatrixSelector*>(e)->vs.get());
      target = &vs->offset_ms;
    } else if (e->kind == NodeKind::kSubquery) {
      target = &static_cast<SubqueryExpr*>(e)->offset_ms;
    } else {
      Fail(pos,
           "offset modifier must be preceded by an instant vector "
           "selector or range vector selector or a subquery");
      return;
    }
    if (*target != 0) {
      Fail(pos, "offset may not be set multiple times");
      return;
    }
    *target = d;
  }

  void SetAt(Expr* e, AtKind kind, int64_t ms, int pos) {
    AtKind* k = nullptr;
    int64_t* t = nullptr;
    if (e->kind == NodeKind::kVectorSelector) {
      auto* vs = static_cast<VectorSelector*>(e);
      k = &vs->at, t = &vs->at_ms;
    } else if (e->kind == NodeKind::kMatrixSelector) {
      auto* vs = static_cast<VectorSelector*>(
          static_cast<MatrixSelector*>(e)->vs.get());
      k = &vs->at, t = &vs->at_ms;
    } else if (e->kind == NodeKind::kSubquery) {
      auto* sq = static_cast<SubqueryExpr*>(e);
      k = &sq->at, t = &sq->at_ms;
    } else {
      Fail(pos,
           "@ modifier must be preceded by an instant vector selector "
           "or range vector selector or a subquery");
      return;
    }
    if (*k != AtKind::kNone) {
      Fail(pos, "@ <timestamp> may not be set multiple times");
      return;
    }
    *k = kind;
    *t = ms;
  }

  ExprPtr ParseRangeOrSubquery(ExprPtr e) {
    int lb = cur_.pos;
    Advance();
    if (cur_.type != Tok::kDuration) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                         " in subquery or range selector, expected "
                         "duration"));
      return nullptr;
    }
    int64_t range = Duration(cur_);
    Advance();
    if (cur_.type == Tok::kRightBracket) {
      int end = cur_.pos + 1;
      Advance();
      if (e->kind != NodeKind::kVectorSelector) {
        Fail(lb, "ranges only allowed for vector selectors");
        return nullptr;
      }
      auto& vs = static_cast<VectorSelector&>(*e);
      if (vs.offset_ms != 0 || vs.at != AtKind::kNone) {
        Fail(lb, "no offset or @ modifiers allowed before range");
        return nullptr;
      }
      auto m = std::make_unique<MatrixSelector>();
      m->pos = {e->pos.start, end};
      m->range_ms = range;
      m->vs = std::move(e);
      return m;
    }
    if (cur_.type != Tok::kColon) {
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                         " in subquery or range selector, expected "
                         "\":\" or \"]\""));
      return nullptr;
    }
    Advance();
    auto sq = std::make_unique<SubqueryExpr>();
    sq->range_ms = range;
    if (cur_.type == Tok::kDuration) {
      sq->step_ms = Duration(cur_);
      if (sq->step_ms == 0) {
        Fail(cur_.pos, "step must be positive");
        return nullptr;
      }
      Advance();
    }
    if (cur_.type != Tok::kRightBracket) {
      Fail(cur_.pos,
           Cat("unexpected ", TokDesc(cur_), " in subquery, expected \"]\""));
      return nullptr;
    }
    int end = cur_.pos + 1;
    Advance();
    if (e->type() != ValueType::kVector) {
      Fail(e->pos.start, Cat("subquery is only allowed on instant vector, got ",
                             ValueTypeName(e->type()), " instead"));
      return nullptr;
    }
    sq->pos = {e->pos.start, end};
    sq->expr = std::move(e);
    return sq;
  }

  ExprPtr ParsePrimary() {
    if (!ok_) return nullptr;
    Token t = cur_;
    switch (t.type) {
      case Tok::kNumber: {
        Advance();
        auto n = std::make_unique<NumberLiteral>();
        n->value = Number(t);
        n->pos = {t.pos, t.pos + static_cast<int>(t.text.size())};
        return n;
      }
      case Tok::kString: {
        Advance();
        auto s = std::make_unique<StringLiteral>();
        std::string err;
        if (!UnquoteString(t.text, &s->value, &err)) {
          Fail(t.pos, err);
          return nullptr;
        }
        s->pos = {t.pos, t.pos + static_cast<int>(t.text.size())};
        return s;
      }
      case Tok::kLeftParen: {
        Advance();
        ExprPtr inner = ParseBinary(1);
        if (!ok_) return nullptr;
        int end = cur_.pos + 1;
        if (!Expect(Tok::kRightParen, "paren expression")) return nullptr;
        auto p = std::make_unique<ParenExpr>();
        p->pos = {t.pos, end};
        p->expr = std::move(inner);
        return p;
      }
      case Tok::kLeftBrace:
        return ParseSelector("", t.pos);
      case Tok::kAggregator:
        return ParseAggregate();
      case Tok::kIdentifier:
      case Tok::kMetricIdentifier: {
        Advance();
        if (cur_.type == Tok::kLeftParen && t.type == Tok::kIdentifier) {
          return ParseCall(t);
        }
        return ParseSelector(std::string(t.text), t.pos);
      }
      case Tok::kEOF:
        Fail(t.pos, "unexpected end of input");
        return nullptr;
      default:
        // Keywords double as metric names only inside braces; elsewhere
        // they are out of place.
        Fail(t.pos, Cat("unexpected ", TokDesc(t)));
        return nullptr;
    }
  }

  ExprPtr ParseSelector(std::string name, int start) {
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
      vs->matchers.insert(vs->matchers.begin(),
                          Matcher::Must(MatchType::kEqual,
                                        std::string(base::kMetricName), name));
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

  void ParseGrouping(AggregateExpr* agg) {
    agg->without = cur_.type == Tok::kWithout;
    agg->has_grouping = true;
    Advance();
    agg->grouping = ParseLabelList("grouping opts");
  }

  ExprPtr ParseAggregate() {
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
      Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_),
                         " in aggregation, expected \"(\""));
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
    return agg;
  }

  ExprPtr ParseCall(const Token& name) {
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
             Cat("unexpected ", TokDesc(cur_), " in call to function \"",
                 f->name, "\", expected \",\" or \")\""));
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
             Cat("expected at least ", min, " argument(s) in call to \"",
                 f->name, "\", got ", n));
        return nullptr;
      }
      if (n > want) {
        Fail(call->pos.start,
             Cat("expected at most ", want, " argument(s) in call to \"",
                 f->name, "\", got ", n));
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
    return call;
  }

  void CheckBinary(BinaryExpr* b, int op_pos) {
    ValueType lt = b->lhs->type(), rt = b->rhs->type();
    auto ok_type = [](ValueType t) {
      return t == ValueType::kScalar || t == ValueType::kVector;
    };
    if (!ok_type(lt) || !ok_type(rt)) {
      Fail(op_pos,
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
        Fail(op_pos, Cat("no grouping allowed for \"", OpString(b->op),
                         "\" operation"));
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

  int64_t Duration(const Token& t) {
    auto d = ParseDurationMs(t.text);
    if (!d.ok()) {
      Fail(t.pos, std::string(d.status().message()));
      return 0;
    }
    return *d;
  }

  double Number(const Token& t) {
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

  std::string_view in_;
  Lexer lex_;
  Token cur_;
  bool ok_ = true;
  int err_pos_ = 0;
  std::string err_;
};

}  // namespace

absl::StatusOr<ExprPtr> ParseExpr(std::string_view query) {
  Parser p(query);
  return p.ParseAll();
}

absl::StatusOr<std::vector<Matcher>> ParseMetricSelector(
    std::string_view selector) {
  Parser p(selector);
  return p.ParseSelectorOnly();
}

absl::StatusOr<int64_t> ParseDurationMs(std::string_view s) {
  static const std::pair<const char*, int64_t> kUnits[] = {
      {"y", 365LL * 24 * 3600 * 1000},
      {"w", 7LL * 24 * 3600 * 1000},
      {"d", 24LL * 3600 * 1000},
      {"h", 3600LL * 1000},
      {"m", 60LL * 1000},
      {"s", 1000},
      {"ms", 1}};
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
