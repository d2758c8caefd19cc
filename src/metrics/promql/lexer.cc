#include "metrics/promql/lexer.h"

#include <cctype>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "base/strings.h"

namespace pantau::metrics::promql {
namespace {

bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlnum(char c) { return IsAlpha(c) || IsDigit(c); }

const absl::flat_hash_map<std::string, Tok>& Keywords() {
  static const auto* m = new absl::flat_hash_map<std::string, Tok>{
      {"and", Tok::kLand},
      {"or", Tok::kLor},
      {"unless", Tok::kLunless},
      {"atan2", Tok::kAtan2},
      {"by", Tok::kBy},
      {"without", Tok::kWithout},
      {"on", Tok::kOn},
      {"ignoring", Tok::kIgnoring},
      {"group_left", Tok::kGroupLeft},
      {"group_right", Tok::kGroupRight},
      {"bool", Tok::kBool},
      {"offset", Tok::kOffset},
      {"start", Tok::kStart},
      {"end", Tok::kEnd},
      {"inf", Tok::kNumber},
      {"nan", Tok::kNumber},
      {"sum", Tok::kAggregator},
      {"avg", Tok::kAggregator},
      {"count", Tok::kAggregator},
      {"min", Tok::kAggregator},
      {"max", Tok::kAggregator},
      {"group", Tok::kAggregator},
      {"stddev", Tok::kAggregator},
      {"stdvar", Tok::kAggregator},
      {"topk", Tok::kAggregator},
      {"bottomk", Tok::kAggregator},
      {"count_values", Tok::kAggregator},
      {"quantile", Tok::kAggregator},
  };
  return *m;
}

}  // namespace

bool IsDurationUnit(char c) {
  return c == 's' || c == 'm' || c == 'h' || c == 'd' || c == 'w' || c == 'y';
}

Token Lexer::Error(std::string msg, int at) {
  error_ = std::move(msg);
  return Token{Tok::kError, error_, at};
}

Token Lexer::Next() {
  while (pos_ < static_cast<int>(in_.size())) {
    char c = in_[pos_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++pos_;
      continue;
    }
    if (c == '#') {  // comment to end of line
      while (pos_ < static_cast<int>(in_.size()) && in_[pos_] != '\n') ++pos_;
      continue;
    }
    break;
  }
  if (pos_ >= static_cast<int>(in_.size())) {
    if (paren_depth_ > 0) return Error("unclosed left parenthesis", pos_);
    if (bracket_depth_ > 0) return Error("unclosed left bracket", pos_);
    return Token{Tok::kEOF, "", pos_};
  }
  int start = pos_;
  char c = in_[pos_];
  char n = pos_ + 1 < static_cast<int>(in_.size()) ? in_[pos_ + 1] : '\0';
  auto one = [&](Tok t) {
    ++pos_;
    return Make(t, start);
  };
  auto two = [&](Tok t) {
    pos_ += 2;
    return Make(t, start);
  };
  switch (c) {
    case ',':
      return one(Tok::kComma);
    case '(':
      ++paren_depth_;
      return one(Tok::kLeftParen);
    case ')':
      if (--paren_depth_ < 0)
        return Error("unexpected right parenthesis ')'", start);
      return one(Tok::kRightParen);
    case '{':
      return one(Tok::kLeftBrace);
    case '}':
      return one(Tok::kRightBrace);
    case '[':
      if (bracket_depth_ > 0)
        return Error("unexpected left bracket '['", start);
      ++bracket_depth_;
      return one(Tok::kLeftBracket);
    case ']':
      if (--bracket_depth_ < 0)
        return Error("unexpected right bracket ']'", start);
      return one(Tok::kRightBracket);
    case ':':
      return one(Tok::kColon);
    case '@':
      return one(Tok::kAt);
    case '+':
      return one(Tok::kAdd);
    case '-':
      return one(Tok::kSub);
    case '*':
      return one(Tok::kMul);
    case '/':
      return one(Tok::kDiv);
    case '%':
      return one(Tok::kMod);
    case '^':
      return one(Tok::kPow);
    case '=':
      if (n == '=') return two(Tok::kEqlC);
      if (n == '~') return two(Tok::kEqlRegex);
      return one(Tok::kAssign);
    case '!':
      if (n == '=') return two(Tok::kNeq);
      if (n == '~') return two(Tok::kNeqRegex);
      return Error("unexpected character after '!'", start);
    case '<':
      if (n == '=') return two(Tok::kLte);
      return one(Tok::kLss);
    case '>':
      if (n == '=') return two(Tok::kGte);
      return one(Tok::kGtr);
    case '"':
    case '\'':
    case '`':
      return LexString(c);
    default:
      break;
  }
  if (IsDigit(c) || (c == '.' && IsDigit(n))) return LexNumberOrDuration();
  if (IsAlpha(c)) return LexIdentifier();
  return Error(std::string("unexpected character: '") + c + "'", start);
}

Token Lexer::LexNumberOrDuration() {
  int start = pos_;
  const int size = static_cast<int>(in_.size());
  auto at = [&](int i) { return i < size ? in_[i] : '\0'; };
  // A duration: digits followed by a unit, repeated ("1h30m", "5ms").
  {
    int p = pos_;
    bool any = false;
    while (IsDigit(at(p))) {
      int q = p;
      while (IsDigit(at(q))) ++q;
      char u = at(q);
      if (!IsDurationUnit(u)) break;
      q += (u == 'm' && at(q + 1) == 's') ? 2 : 1;
      any = true;
      p = q;
    }
    if (any && !IsAlnum(at(p)) && at(p) != '.') {
      pos_ = p;
      return Make(Tok::kDuration, start);
    }
  }
  int p = pos_;
  if (at(p) == '0' && (at(p + 1) == 'x' || at(p + 1) == 'X')) {
    p += 2;
    while (std::isxdigit(static_cast<unsigned char>(at(p)))) ++p;
  } else {
    while (IsDigit(at(p))) ++p;
    if (at(p) == '.') {
      ++p;
      while (IsDigit(at(p))) ++p;
    }
    if (at(p) == 'e' || at(p) == 'E') {
      int q = p + 1;
      if (at(q) == '+' || at(q) == '-') ++q;
      if (IsDigit(at(q))) {
        while (IsDigit(at(q))) ++q;
        p = q;
      }
    }
  }
  if (IsAlnum(at(p)) || at(p) == '.') {
    pos_ = p + 1;
    return Error("bad number or duration syntax: \"" +
                     std::string(in_.substr(start, p + 1 - start)) + "\"",
                 start);
  }
  pos_ = p;
  return Make(Tok::kNumber, start);
}

Token Lexer::LexIdentifier() {
  int start = pos_;
  bool colon = false;
  while (pos_ < static_cast<int>(in_.size()) &&
         (IsAlnum(in_[pos_]) || in_[pos_] == ':')) {
    if (in_[pos_] == ':') {
      // Inside brackets a colon separates a subquery's range and step.
      if (bracket_depth_ > 0) break;
      colon = true;
    }
    ++pos_;
  }
  std::string word =
      absl::AsciiStrToLower(base::Sv(in_.substr(start, pos_ - start)));
  if (!colon) {
    auto it = Keywords().find(word);
    if (it != Keywords().end()) return Make(it->second, start);
  }
  return Make(colon ? Tok::kMetricIdentifier : Tok::kIdentifier, start);
}

Token Lexer::LexString(char quote) {
  int start = pos_++;
  const int size = static_cast<int>(in_.size());
  while (pos_ < size) {
    char c = in_[pos_];
    if (c == '\\' && quote != '`') {
      pos_ += 2;
      continue;
    }
    if (c == '\n' && quote != '`')
      return Error("unterminated quoted string", start);
    ++pos_;
    if (c == quote) return Make(Tok::kString, start);
  }
  if (quote == '`') return Error("unterminated raw string", start);
  return Error("unterminated quoted string", start);
}

namespace {
void AppendUtf8(uint32_t r, std::string* out) {
  if (r < 0x80) {
    out->push_back(static_cast<char>(r));
  } else if (r < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (r >> 6)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else if (r < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (r >> 12)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (r >> 18)));
    out->push_back(static_cast<char>(0x80 | ((r >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((r >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (r & 0x3F)));
  }
}
int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool UnquoteString(std::string_view q, std::string* out, std::string* err) {
  out->clear();
  if (q.size() < 2) {
    *err = "invalid string";
    return false;
  }
  char quote = q[0];
  std::string_view s = q.substr(1, q.size() - 2);
  if (quote == '`') {
    out->assign(s);
    return true;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (++i >= s.size()) {
      *err = "invalid syntax";
      return false;
    }
    char e = s[i];
    switch (e) {
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '\'':
      case '"':
        if (e != quote) {
          *err = "invalid syntax";
          return false;
        }
        out->push_back(e);
        break;
      case 'x':
      case 'u':
      case 'U': {
        int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        uint32_t v = 0;
        for (int k = 1; k <= n; ++k) {
          int h = i + k < s.size() ? HexVal(s[i + k]) : -1;
          if (h < 0) {
            *err = "invalid syntax";
            return false;
          }
          v = v * 16 + h;
        }
        i += n;
        if (e == 'x') {
          out->push_back(static_cast<char>(v));
        } else {
          if (v > 0x10FFFF) {
            *err = "invalid syntax";
            return false;
          }
          AppendUtf8(v, out);
        }
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = 0;
          for (int k = 0; k < 3; ++k) {
            if (i + k >= s.size() || s[i + k] < '0' || s[i + k] > '7') {
              *err = "invalid syntax";
              return false;
            }
            v = v * 8 + (s[i + k] - '0');
          }
          if (v > 255) {
            *err = "invalid syntax";
            return false;
          }
          out->push_back(static_cast<char>(v));
          i += 2;
          break;
        }
        *err = "invalid syntax";
        return false;
    }
  }
  return true;
}

}  // namespace pantau::metrics::promql
