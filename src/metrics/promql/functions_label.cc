// label_replace and label_join.
#include <re2/re2.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "metrics/promql/functions.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {
namespace {

bool ValidLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (i > 0 && c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

// Go's regexp.Expand: $1, ${1}, $name, ${name}, $$. A name is the longest
// run of word characters, so "$1x" means the group named "1x".
std::string Expand(std::string_view tmpl, const RE2& re,
                   const std::vector<re2::StringPiece>& groups) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if (c != '$' || i + 1 >= tmpl.size()) {
      out.push_back(c);
      continue;
    }
    if (tmpl[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    std::string_view name;
    size_t next;
    if (tmpl[i + 1] == '{') {
      size_t close = tmpl.find('}', i + 2);
      if (close == std::string_view::npos) {
        out.push_back(c);
        continue;
      }
      name = tmpl.substr(i + 2, close - i - 2);
      bool ok = !name.empty();
      for (char x : name) ok &= IsWordChar(x);
      if (!ok) {
        out.push_back(c);
        continue;
      }
      next = close;
    } else {
      size_t j = i + 1;
      while (j < tmpl.size() && IsWordChar(tmpl[j])) ++j;
      if (j == i + 1) {
        out.push_back(c);
        continue;
      }
      name = tmpl.substr(i + 1, j - i - 1);
      next = j - 1;
    }
    int idx = -1;
    bool numeric = true;
    for (char x : name) numeric &= x >= '0' && x <= '9';
    if (numeric) {
      if (name.size() < 9) idx = std::stoi(std::string(name));
    } else {
      auto it = re.NamedCapturingGroups().find(std::string(name));
      if (it != re.NamedCapturingGroups().end()) idx = it->second;
    }
    if (idx >= 0 && idx < static_cast<int>(groups.size()) &&
        groups[idx].data() != nullptr) {
      out.append(groups[idx].data(), groups[idx].size());
    }
    i = next;
  }
  return out;
}

absl::Status LabelReplace(const CallContext& c, Vector* out) {
  std::string_view dst = c.args[1].str, repl = c.args[2].str,
                   src = c.args[3].str, regex = c.args[4].str;
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(Cat("^(?:", regex, ")$"), opts);
  if (!re.ok()) {
    return ExecutionError(
        Cat("invalid regular expression in label_replace(): ", regex));
  }
  if (!ValidLabelName(dst)) {
    return ExecutionError(
        Cat("invalid destination label name in label_replace(): ", dst));
  }
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  absl::flat_hash_set<base::Labels> seen;
  for (const VectorSample& s : *c.args[0].vector) {
    std::string_view sv = s.labels.Get(src);
    base::Labels metric = s.labels;
    if (re.Match(sv, 0, sv.size(), RE2::UNANCHORED, groups.data(),
                 static_cast<int>(groups.size()))) {
      std::string res = Expand(repl, re, groups);
      metric = base::LabelsBuilder(s.labels).Set(dst, res).Build();
    }
    if (!seen.insert(metric).second) {
      return ExecutionError(
          Cat("duplicated label set in output of label_replace(): ",
              s.labels.ToString()));
    }
    out->push_back(VectorSample{std::move(metric), s.t, s.v});
  }
  return absl::OkStatus();
}

absl::Status LabelJoin(const CallContext& c, Vector* out) {
  std::string_view dst = c.args[1].str, sep = c.args[2].str;
  std::vector<std::string_view> srcs;
  for (size_t i = 3; i < c.args.size(); ++i) {
    if (!ValidLabelName(c.args[i].str)) {
      return ExecutionError(
          Cat("invalid source label name in label_join(): ", c.args[i].str));
    }
    srcs.push_back(c.args[i].str);
  }
  if (!ValidLabelName(dst)) {
    return ExecutionError(
        Cat("invalid destination label name in label_join(): ", dst));
  }
  absl::flat_hash_set<base::Labels> seen;
  for (const VectorSample& s : *c.args[0].vector) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i > 0) joined.append(sep);
      joined.append(s.labels.Get(srcs[i]));
    }
    base::Labels metric =
        base::LabelsBuilder(s.labels).Set(dst, joined).Build();
    if (!seen.insert(metric).second) {
      return ExecutionError(
          Cat("duplicated label set in output of label_join(): ",
              s.labels.ToString()));
    }
    out->push_back(VectorSample{std::move(metric), s.t, s.v});
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterLabelFunctions(FunctionTable* t) {
  using VT = ValueType;
  FunctionDef replace;
  replace.name = "label_replace";
  replace.arg_types = {VT::kVector, VT::kString, VT::kString, VT::kString,
                       VT::kString};
  replace.vector_fn = LabelReplace;
  t->push_back(replace);
  FunctionDef join;
  join.name = "label_join";
  join.arg_types = {VT::kVector, VT::kString, VT::kString, VT::kString};
  join.variadic = -1;
  join.vector_fn = LabelJoin;
  t->push_back(join);
}

}  // namespace pantau::metrics::promql
