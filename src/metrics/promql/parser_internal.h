// The PromQL parser's internals, shared by parser.cc (expressions,
// operators, modifiers) and parser_terms.cc (selectors, aggregations, calls,
// type checks). Not part of the module's interface: use parser.h.
//
// Thread safety: a Parser belongs to one thread.
#ifndef PANTAU_METRICS_PROMQL_PARSER_INTERNAL_H_
#define PANTAU_METRICS_PROMQL_PARSER_INTERNAL_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "metrics/promql/ast.h"
#include "metrics/promql/lexer.h"
#include "metrics/storage/matcher.h"

namespace pantau::metrics::promql::internal {

bool IsLabelName(std::string_view s);
// How a token is named in "unexpected ..." messages.
std::string TokDesc(const Token& t);

// One parse of one query; `in` must outlive the Parser.
class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in), lex_(in) { Advance(); }
  absl::StatusOr<ExprPtr> ParseAll();
  absl::StatusOr<std::vector<Matcher>> ParseSelectorOnly();

 private:
  absl::Status Status() const;
  void Fail(int pos, std::string msg);
  void Advance();
  bool Expect(Tok t, std::string_view ctx);
  ExprPtr ParseBinary(int min_prec);
  void ParseBinaryModifiers(BinaryExpr* bin);
  std::vector<std::string> ParseLabelList(std::string_view ctx);
  ExprPtr ParseUnary();
  ExprPtr ParsePostfix(ExprPtr e);
  void SetOffset(Expr* e, int64_t d, int pos);
  void SetAt(Expr* e, AtKind kind, int64_t ms, int pos);
  ExprPtr ParseRangeOrSubquery(ExprPtr e);
  ExprPtr ParsePrimary();
  ExprPtr ParseSelector(std::string name, int start);
  void ParseGrouping(AggregateExpr* agg);
  ExprPtr ParseAggregate();
  ExprPtr ParseCall(const Token& name);
  void CheckBinary(BinaryExpr* b, int op_pos);
  int64_t Duration(const Token& t);
  double Number(const Token& t);
  // Sets e->depth from its children; fails past kMaxDepth.
  bool Finish(Expr* e);

  // Far deeper than any real query; shallow enough for small stacks.
  static constexpr int kMaxDepth = 400;
  int nesting_ = 0;

  std::string_view in_;
  Lexer lex_;
  Token cur_;
  bool ok_ = true;
  int err_pos_ = 0;
  std::string err_;
};

}  // namespace pantau::metrics::promql::internal

#endif  // PANTAU_METRICS_PROMQL_PARSER_INTERNAL_H_
