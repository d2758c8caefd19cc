// A label matcher: name="v", name!="v", name=~"re", name!~"re". Regexes are
// RE2 and fully anchored, as in Prometheus.
//
// Thread safety: immutable after construction; safe to share.
#ifndef PANTAU_METRICS_STORAGE_MATCHER_H_
#define PANTAU_METRICS_STORAGE_MATCHER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/labels.h"

namespace re2 {
class RE2;
}

namespace pantau::metrics {

enum class MatchType { kEqual, kNotEqual, kRegexMatch, kRegexNoMatch };

class Matcher {
 public:
  // Fails with INVALID_ARGUMENT (naming the problem) on a bad regex.
  static absl::StatusOr<Matcher> Create(MatchType type, std::string name,
                                        std::string value);
  // For literals in code and tests; CHECK-fails on a bad regex.
  static Matcher Must(MatchType type, std::string name, std::string value);

  bool Matches(std::string_view value) const;
  // Whether this matcher matches the label being absent ("" value).
  bool MatchesEmpty() const { return matches_empty_; }
  // Labels-level match; an absent label has value "".
  bool Matches(const base::Labels& labels) const {
    return Matches(labels.Get(name_));
  }

  MatchType type() const { return type_; }
  const std::string& name() const { return name_; }
  const std::string& value() const { return value_; }
  // For a regex matcher whose pattern is a plain alternation of literals
  // ("a|b|c") this lists them, so an index can look them up directly
  // instead of scanning all values; empty otherwise.
  const std::vector<std::string>& SetMatches() const { return set_matches_; }
  // As written in PromQL: name="value" with the value quoted and escaped.
  std::string ToString() const;

 private:
  Matcher() = default;
  MatchType type_ = MatchType::kEqual;
  std::string name_;
  std::string value_;
  std::shared_ptr<const re2::RE2> re_;
  std::vector<std::string> set_matches_;
  bool matches_empty_ = false;
};

std::string_view MatchTypeString(MatchType type);

}  // namespace pantau::metrics

#endif  // PANTAU_METRICS_STORAGE_MATCHER_H_
