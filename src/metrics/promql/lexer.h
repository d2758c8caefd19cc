// The PromQL lexer: turns query text into tokens for the parser. It knows
// PromQL's context rules (durations inside brackets and after `offset`,
// keywords that are also valid label names).
//
// Thread safety: a Lexer belongs to one thread; it views the input, which
// must outlive it.
#ifndef PANTAU_METRICS_PROMQL_LEXER_H_
#define PANTAU_METRICS_PROMQL_LEXER_H_

#include <string>
#include <string_view>

namespace pantau::metrics::promql {

enum class Tok {
  kEOF,
  kError,
  kIdentifier,
  kMetricIdentifier,
  kNumber,
  kDuration,
  kString,
  kLeftParen,
  kRightParen,
  kLeftBrace,
  kRightBrace,
  kLeftBracket,
  kRightBracket,
  kComma,
  kColon,
  kAt,
  kAssign,  // `=` in matchers
  // Operators.
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kPow,
  kEqlC,
  kNeq,
  kGtr,
  kLss,
  kGte,
  kLte,
  kEqlRegex,
  kNeqRegex,
  kLand,
  kLor,
  kLunless,
  kAtan2,
  // Keywords.
  kBy,
  kWithout,
  kOn,
  kIgnoring,
  kGroupLeft,
  kGroupRight,
  kBool,
  kOffset,
  kStart,
  kEnd,
  kAggregator,  // sum, avg, ...: text says which
};

struct Token {
  Tok type = Tok::kEOF;
  std::string_view text;  // for kError: the message
  int pos = 0;            // byte offset in the input
};

class Lexer {
 public:
  explicit Lexer(std::string_view input) : in_(input) {}
  Token Next();

 private:
  Token Make(Tok t, int start) {
    return Token{t, in_.substr(start, pos_ - start), start};
  }
  Token Error(std::string msg, int at);
  Token LexNumberOrDuration();
  Token LexIdentifier();
  Token LexString(char quote);

  std::string_view in_;
  int pos_ = 0;
  int bracket_depth_ = 0;
  int paren_depth_ = 0;
  std::string error_;
};

// Whether `c` starts a duration unit (s, m, h, d, w, y; "ms" starts with m).
bool IsDurationUnit(char c);
// Decodes a PromQL string literal including its quotes; false when an
// escape is malformed (message in *err).
bool UnquoteString(std::string_view quoted, std::string* out, std::string* err);

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_LEXER_H_
