#include "metrics/scrape/relabel.h"

#include <cctype>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "metrics/scrape/exposition_parser.h"
#include "metrics/scrape/md5.h"
#include "metrics/scrape/strings.h"
#include "re2/re2.h"

namespace pantau::metrics::scrape {
namespace {

constexpr int kMaxGroups = 32;

bool IsWordChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Go's regexp.Expand: $1, ${1}, $name, ${name}; $$ is a literal $; a
// malformed reference keeps its $; a missing group expands to "".
void Expand(const re2::RE2& re, std::string_view tmpl,
            const re2::StringPiece* groups, int ngroups, std::string* out) {
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t dollar = tmpl.find('$', i);
    if (dollar == std::string_view::npos) {
      out->append(tmpl.substr(i));
      return;
    }
    out->append(tmpl.substr(i, dollar - i));
    i = dollar + 1;
    if (i < tmpl.size() && tmpl[i] == '$') {
      out->push_back('$');
      ++i;
      continue;
    }
    bool brace = i < tmpl.size() && tmpl[i] == '{';
    size_t start = brace ? i + 1 : i;
    size_t end = start;
    while (end < tmpl.size() && IsWordChar(tmpl[end])) ++end;
    if (end == start || (brace && (end >= tmpl.size() || tmpl[end] != '}'))) {
      out->push_back('$');  // malformed: keep the $ as text
      continue;
    }
    std::string_view name = tmpl.substr(start, end - start);
    i = brace ? end + 1 : end;
    int num = -1;
    bool digits = true;
    for (char c : name) digits = digits && c >= '0' && c <= '9';
    if (digits && name.size() < 9) {
      num = 0;
      for (char c : name) num = num * 10 + (c - '0');
    }
    if (num < 0) {
      auto it = re.NamedCapturingGroups().find(std::string(name));
      if (it != re.NamedCapturingGroups().end()) num = it->second;
    }
    if (num >= 0 && num < ngroups && groups[num].data() != nullptr) {
      out->append(groups[num].data(), groups[num].size());
    }
  }
}

bool FullMatch(const re2::RE2& re, std::string_view s) {
  return re.Match(re2::StringPiece(s.data(), s.size()), 0, s.size(),
                  re2::RE2::UNANCHORED, nullptr, 0);
}

// Matches and fills groups; returns the number of groups filled, or -1.
int MatchGroups(const re2::RE2& re, std::string_view s,
                re2::StringPiece* groups) {
  int n = std::min(re.NumberOfCapturingGroups() + 1, kMaxGroups);
  if (!re.Match(re2::StringPiece(s.data(), s.size()), 0, s.size(),
                re2::RE2::UNANCHORED, groups, n)) {
    return -1;
  }
  return n;
}

// Prometheus's relabelTarget: label names that may contain $ references.
bool IsValidTargetTemplate(std::string_view s) {
  static const re2::RE2* re =
      new re2::RE2(R"(^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$)");
  return FullMatch(*re, s);
}

}  // namespace

std::optional<RelabelAction> ParseRelabelAction(std::string_view s) {
  static constexpr std::pair<std::string_view, RelabelAction> kNames[] = {
      {"replace", RelabelAction::kReplace},
      {"keep", RelabelAction::kKeep},
      {"drop", RelabelAction::kDrop},
      {"keepequal", RelabelAction::kKeepEqual},
      {"dropequal", RelabelAction::kDropEqual},
      {"hashmod", RelabelAction::kHashMod},
      {"labelmap", RelabelAction::kLabelMap},
      {"labeldrop", RelabelAction::kLabelDrop},
      {"labelkeep", RelabelAction::kLabelKeep},
      {"lowercase", RelabelAction::kLowercase},
      {"uppercase", RelabelAction::kUppercase},
  };
  for (const auto& [name, action] : kNames) {
    if (EqualsIgnoreCase(name, s)) return action;
  }
  return std::nullopt;
}

std::string_view RelabelActionName(RelabelAction a) {
  switch (a) {
    case RelabelAction::kReplace:
      return "replace";
    case RelabelAction::kKeep:
      return "keep";
    case RelabelAction::kDrop:
      return "drop";
    case RelabelAction::kKeepEqual:
      return "keepequal";
    case RelabelAction::kDropEqual:
      return "dropequal";
    case RelabelAction::kHashMod:
      return "hashmod";
    case RelabelAction::kLabelMap:
      return "labelmap";
    case RelabelAction::kLabelDrop:
      return "labeldrop";
    case RelabelAction::kLabelKeep:
      return "labelkeep";
    case RelabelAction::kLowercase:
      return "lowercase";
    case RelabelAction::kUppercase:
      return "uppercase";
  }
  return "replace";
}

absl::Status ValidateRelabelConfig(const RelabelConfig& c) {
  const std::string name(RelabelActionName(c.action));
  const RelabelAction a = c.action;
  re2::RE2 re(absl::StrCat("^(?:", c.regex, ")$"), re2::RE2::Quiet);
  if (!re.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid regex \"", c.regex, "\": ", re.error()));
  }
  if (a == RelabelAction::kHashMod && c.modulus == 0) {
    return absl::InvalidArgumentError(
        "relabel configuration for hashmod requires non-zero modulus");
  }
  const bool needs_target =
      a == RelabelAction::kReplace || a == RelabelAction::kHashMod ||
      a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
      a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual;
  if (needs_target && c.target_label.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("relabel configuration for ", name,
                     " action requires 'target_label' value"));
  }
  if ((a == RelabelAction::kReplace || a == RelabelAction::kLowercase ||
       a == RelabelAction::kUppercase) &&
      !IsValidTargetTemplate(c.target_label)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", c.target_label, "\" is invalid 'target_label' for ",
                     name, " action"));
  }
  if ((a == RelabelAction::kLowercase || a == RelabelAction::kUppercase ||
       a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) &&
      c.replacement != kDefaultRelabelReplacement) {
    return absl::InvalidArgumentError(
        absl::StrCat("'replacement' can not be set for ", name, " action"));
  }
  if (a == RelabelAction::kHashMod && !IsValidLabelName(c.target_label)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", c.target_label, "\" is invalid 'target_label' for ",
                     name, " action"));
  }
  if ((a == RelabelAction::kKeepEqual || a == RelabelAction::kDropEqual) &&
      (c.regex != kDefaultRelabelRegex || c.modulus != 0 ||
       c.separator != kDefaultRelabelSeparator ||
       c.replacement != kDefaultRelabelReplacement)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name,
        " action requires only 'source_labels' and `target_label`, and no "
        "other fields"));
  }
  if ((a == RelabelAction::kLabelDrop || a == RelabelAction::kLabelKeep) &&
      (!c.source_labels.empty() || !c.target_label.empty() || c.modulus != 0 ||
       c.separator != kDefaultRelabelSeparator ||
       c.replacement != kDefaultRelabelReplacement)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " action requires only 'regex', and no other fields"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Relabeler> Relabeler::Create(
    std::vector<RelabelConfig> configs) {
  Relabeler r;
  for (size_t i = 0; i < configs.size(); ++i) {
    absl::Status s = ValidateRelabelConfig(configs[i]);
    if (!s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("relabel step ", i + 1, ": ", s.message()));
    }
    auto re = std::make_shared<const re2::RE2>(
        absl::StrCat("^(?:", configs[i].regex, ")$"), re2::RE2::Quiet);
    r.steps_.push_back({std::move(configs[i]), std::move(re)});
  }
  return r;
}

std::optional<base::Labels> Relabeler::Process(
    const base::Labels& labels) const {
  base::Labels current = labels;
  std::string val;
  std::string buf;
  re2::StringPiece groups[kMaxGroups];
  for (const Step& step : steps_) {
    const RelabelConfig& c = step.config;
    const re2::RE2& re = *step.re;
    val.clear();
    for (size_t i = 0; i < c.source_labels.size(); ++i) {
      if (i > 0) val.append(c.separator);
      std::string_view v = current.Get(c.source_labels[i]);
      val.append(v.data(), v.size());
    }
    switch (c.action) {
      case RelabelAction::kDrop:
        if (FullMatch(re, val)) return std::nullopt;
        break;
      case RelabelAction::kKeep:
        if (!FullMatch(re, val)) return std::nullopt;
        break;
      case RelabelAction::kDropEqual:
        if (current.Get(c.target_label) == val) return std::nullopt;
        break;
      case RelabelAction::kKeepEqual:
        if (current.Get(c.target_label) != val) return std::nullopt;
        break;
      case RelabelAction::kReplace: {
        int n = MatchGroups(re, val, groups);
        if (n < 0) break;  // no match, no replacement
        std::string target;
        Expand(re, c.target_label, groups, n, &target);
        if (!IsValidLabelName(target)) break;
        buf.clear();
        Expand(re, c.replacement, groups, n, &buf);
        base::LabelsBuilder b(current);
        if (buf.empty()) {
          b.Del(target);
        } else {
          b.Set(target, buf);
        }
        current = b.Build();
        break;
      }
      case RelabelAction::kLowercase:
      case RelabelAction::kUppercase: {
        for (char& ch : val) {
          ch = c.action == RelabelAction::kLowercase
                   ? static_cast<char>(
                         std::tolower(static_cast<unsigned char>(ch)))
                   : static_cast<char>(
                         std::toupper(static_cast<unsigned char>(ch)));
        }
        current = base::LabelsBuilder(current).Set(c.target_label, val).Build();
        break;
      }
      case RelabelAction::kHashMod: {
        std::array<uint8_t, 16> h = Md5(val);
        // The last 8 bytes, big-endian, as Prometheus uses.
        uint64_t x = 0;
        for (int i = 8; i < 16; ++i) x = (x << 8) | h[i];
        current = base::LabelsBuilder(current)
                      .Set(c.target_label, absl::StrCat(x % c.modulus))
                      .Build();
        break;
      }
      case RelabelAction::kLabelMap: {
        base::LabelsBuilder b(current);
        for (const base::LabelView& l : current) {
          int n = MatchGroups(re, l.name, groups);
          if (n < 0) continue;
          buf.clear();
          Expand(re, c.replacement, groups, n, &buf);
          b.Set(buf, l.value);
        }
        current = b.Build();
        break;
      }
      case RelabelAction::kLabelDrop:
      case RelabelAction::kLabelKeep: {
        const bool drop = c.action == RelabelAction::kLabelDrop;
        base::LabelsBuilder b(current);
        for (const base::LabelView& l : current) {
          if (FullMatch(re, l.name) == drop) b.Del(l.name);
        }
        current = b.Build();
        break;
      }
    }
  }
  return current;
}

}  // namespace pantau::metrics::scrape
