// Recursive descent with precedence climbing; type checks happen as each
// node is built so errors point at the offending part of the query.
#include "metrics/promql/parser.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "metrics/promql/functions.h"
#include "metrics/promql/lexer.h"
#include "metrics/promql/parser_internal.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {
namespace internal {
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

}  // namespace

absl::StatusOr<ExprPtr> Parser::ParseAll() {
  ExprPtr e = ParseBinary(1);
  if (ok_ && cur_.type != Tok::kEOF) {
    Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_)));
  }
  if (!ok_) return Status();
  return e;
}

absl::StatusOr<std::vector<Matcher>> Parser::ParseSelectorOnly() {
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

absl::Status Parser::Status() const {
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

void Parser::Fail(int pos, std::string msg) {
  if (!ok_) return;
  ok_ = false;
  err_pos_ = pos;
  err_ = std::move(msg);
}

void Parser::Advance() {
  cur_ = lex_.Next();
  if (cur_.type == Tok::kError) Fail(cur_.pos, std::string(cur_.text));
}

bool Parser::Expect(Tok t, std::string_view ctx) {
  if (!ok_) return false;
  if (cur_.type != t) {
    Fail(cur_.pos, Cat("unexpected ", TokDesc(cur_), " in ", ctx));
    return false;
  }
  Advance();
  return true;
}

bool Parser::Finish(Expr* e) {
  int d = 0;
  switch (e->kind) {
    case NodeKind::kParen:
      d = static_cast<ParenExpr*>(e)->expr->depth;
      break;
    case NodeKind::kUnary:
      d = static_cast<UnaryExpr*>(e)->expr->depth;
      break;
    case NodeKind::kBinary:
      d = std::max(static_cast<BinaryExpr*>(e)->lhs->depth,
                   static_cast<BinaryExpr*>(e)->rhs->depth);
      break;
    case NodeKind::kMatrixSelector:
      d = 1;
      break;
    case NodeKind::kSubquery:
      d = static_cast<SubqueryExpr*>(e)->expr->depth;
      break;
    case NodeKind::kCall:
      for (const auto& a : static_cast<Call*>(e)->args)
        d = std::max(d, a->depth);
      break;
    case NodeKind::kAggregate: {
      auto* a = static_cast<AggregateExpr*>(e);
      d = a->expr->depth;
      if (a->param) d = std::max(d, a->param->depth);
      break;
    }
    default:
      break;
  }
  e->depth = d + 1;
  if (e->depth > kMaxDepth) {
    Fail(e->pos.start, "query is nested too deeply");
    return false;
  }
  return true;
}

ExprPtr Parser::ParseBinary(int min_prec) {
  // Bounds the parser's own recursion; Finish() bounds the tree it builds.
  if (++nesting_ > kMaxDepth) {
    Fail(cur_.pos, "query is nested too deeply");
  }
  struct Unnest {
    int* n;
    ~Unnest() { --*n; }
  } unnest{&nesting_};
  if (!ok_) return nullptr;
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
    if (!Finish(bin.get())) return nullptr;
    lhs = std::move(bin);
  }
  return ok_ ? std::move(lhs) : nullptr;
}

void Parser::ParseBinaryModifiers(BinaryExpr* bin) {
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

std::vector<std::string> Parser::ParseLabelList(std::string_view ctx) {
  std::vector<std::string> out;
  if (!Expect(Tok::kLeftParen, ctx)) return out;
  while (ok_ && cur_.type != Tok::kRightParen) {
    if (!IsLabelName(cur_.text) || cur_.type == Tok::kString ||
        cur_.type == Tok::kNumber) {
      Fail(cur_.pos,
           Cat("unexpected ", TokDesc(cur_), " in ", ctx, ", expected label"));
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

ExprPtr Parser::ParseUnary() {
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
    if (!Finish(u.get())) return nullptr;
    return u;
  }
  ExprPtr e = ParsePrimary();
  if (!ok_) return nullptr;
  return ParsePostfix(std::move(e));
}

ExprPtr Parser::ParsePostfix(ExprPtr e) {
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
          Fail(cur_.pos,
               Cat("unexpected ", TokDesc(cur_), " in @, expected timestamp"));
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

void Parser::SetOffset(Expr* e, int64_t d, int pos) {
  int64_t* target = nullptr;
  if (e->kind == NodeKind::kVectorSelector) {
    target = &static_cast<VectorSelector*>(e)->offset_ms;
  } else if (e->kind == NodeKind::kMatrixSelector) {
    auto* vs =
        static_cast<VectorSelector*>(static_cast<MatrixSelector*>(e)->vs.get());
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

void Parser::SetAt(Expr* e, AtKind kind, int64_t ms, int pos) {
  AtKind* k = nullptr;
  int64_t* t = nullptr;
  if (e->kind == NodeKind::kVectorSelector) {
    auto* vs = static_cast<VectorSelector*>(e);
    k = &vs->at, t = &vs->at_ms;
  } else if (e->kind == NodeKind::kMatrixSelector) {
    auto* vs =
        static_cast<VectorSelector*>(static_cast<MatrixSelector*>(e)->vs.get());
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

ExprPtr Parser::ParseRangeOrSubquery(ExprPtr e) {
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
    if (!Finish(m.get())) return nullptr;
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
  if (!Finish(sq.get())) return nullptr;
  return sq;
}

ExprPtr Parser::ParsePrimary() {
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
      if (!Finish(p.get())) return nullptr;
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

}  // namespace internal

absl::StatusOr<ExprPtr> ParseExpr(std::string_view query) {
  internal::Parser p(query);
  return p.ParseAll();
}

absl::StatusOr<std::vector<Matcher>> ParseMetricSelector(
    std::string_view selector) {
  internal::Parser p(selector);
  return p.ParseSelectorOnly();
}

}  // namespace pantau::metrics::promql
