#include "metrics/storage/matcher.h"

#include <re2/re2.h>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace pantau::metrics {
namespace {

// True if `pattern` is a plain alternation of literals such as "a|b|c"
// (no metacharacters), filling `out` with them.
bool LiteralAlternation(const std::string& pattern,
                        std::vector<std::string>* out) {
  std::string current;
  for (char c : pattern) {
    if (c == '|') {
      out->push_back(current);
      current.clear();
      continue;
    }
    if (std::string_view("\\.+*?()[]{}^$").find(c) != std::string_view::npos) {
      out->clear();
      return false;
    }
    current.push_back(c);
  }
  out->push_back(current);
  return true;
}

void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') out->push_back('\\');
    if (c == '\n') {
      out->append("\\n");
      continue;
    }
    out->push_back(c);
  }
  out->push_back('"');
}

}  // namespace

std::string_view MatchTypeString(MatchType type) {
  switch (type) {
    case MatchType::kEqual:
      return "=";
    case MatchType::kNotEqual:
      return "!=";
    case MatchType::kRegexMatch:
      return "=~";
    case MatchType::kRegexNoMatch:
      return "!~";
  }
  return "?";
}

absl::StatusOr<Matcher> Matcher::Create(MatchType type, std::string name,
                                        std::string value) {
  Matcher m;
  m.type_ = type;
  m.name_ = std::move(name);
  m.value_ = std::move(value);
  if (type == MatchType::kRegexMatch || type == MatchType::kRegexNoMatch) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_dot_nl(true);  // Prometheus compiles with (?s)
    auto re =
        std::make_shared<RE2>(absl::StrCat("^(?:", m.value_, ")$"), options);
    if (!re->ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid regular expression \"", m.value_, "\": ", re->error()));
    }
    m.re_ = std::move(re);
    if (type == MatchType::kRegexMatch) {
      LiteralAlternation(m.value_, &m.set_matches_);
    }
  }
  m.matches_empty_ = m.Matches(std::string_view());
  return m;
}

Matcher Matcher::Must(MatchType type, std::string name, std::string value) {
  auto m = Create(type, std::move(name), std::move(value));
  PANTAU_CHECK(m.ok()) << m.status();
  return *std::move(m);
}

bool Matcher::Matches(std::string_view value) const {
  switch (type_) {
    case MatchType::kEqual:
      return value == value_;
    case MatchType::kNotEqual:
      return value != value_;
    case MatchType::kRegexMatch:
      return RE2::FullMatch(value, *re_);
    case MatchType::kRegexNoMatch:
      return !RE2::FullMatch(value, *re_);
  }
  return false;
}

std::string Matcher::ToString() const {
  std::string out = name_;
  out.append(MatchTypeString(type_));
  AppendQuoted(&out, value_);
  return out;
}

}  // namespace pantau::metrics
