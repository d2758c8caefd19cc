#include "metrics/scrape/yaml_decode.h"

#include <charconv>
#include <set>

#include "absl/strings/str_cat.h"
#include "base/time.h"
#include "metrics/scrape/strings.h"

namespace pantau::metrics::scrape {
namespace {

int LineOf(const YAML::Node& n, int fallback) {
  YAML::Mark m = n.Mark();
  if (m.is_null() || m.line < 0) return fallback;
  return m.line + 1;
}

std::string_view KindName(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "null";
    default:
      return "nothing";
  }
}

}  // namespace

YamlPos YamlPos::Child(std::string_view key, const YAML::Node& at) const {
  YamlPos p;
  p.path = path.empty() ? std::string(key) : absl::StrCat(path, ".", Sv(key));
  p.line = LineOf(at, line);
  return p;
}

YamlPos YamlPos::Index(size_t i, const YAML::Node& at) const {
  return YamlPos{absl::StrCat(path, "[", i, "]"), LineOf(at, line)};
}

absl::Status YamlDecoder::Error(const YamlPos& pos,
                                std::string_view msg) const {
  return absl::InvalidArgumentError(
      absl::StrCat(filename_, ":", pos.line, ": ", pos.path, ": ", Sv(msg)));
}

absl::Status YamlDecoder::Map(const YAML::Node& node, const YamlPos& pos,
                              const std::vector<Field>& fields) const {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsMap()) {
    return Error(pos, absl::StrCat("expected a map, got ", Sv(KindName(node))));
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar()) {
      return Error(pos.Child("?", it->first), "map keys must be strings");
    }
    const std::string& key = it->first.Scalar();
    YamlPos child = pos.Child(key, it->first);
    const Field* field = nullptr;
    for (const Field& f : fields) {
      if (f.name == key) field = &f;
    }
    if (field == nullptr) return Error(child, "unknown field");
    if (!seen.insert(key).second) return Error(child, "field set twice");
    absl::Status s = field->decode(it->second, child);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status YamlDecoder::Seq(
    const YAML::Node& node, const YamlPos& pos,
    const std::function<absl::Status(const YAML::Node&, const YamlPos&)>& fn)
    const {
  if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
  if (!node.IsSequence()) {
    return Error(pos,
                 absl::StrCat("expected a list, got ", Sv(KindName(node))));
  }
  for (size_t i = 0; i < node.size(); ++i) {
    absl::Status s = fn(node[i], pos.Index(i, node[i]));
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status YamlDecoder::String(const YAML::Node& n, const YamlPos& p,
                                 std::string* out) const {
  if (n.IsNull()) return absl::OkStatus();
  if (!n.IsScalar()) {
    return Error(p, absl::StrCat("expected a string, got ", Sv(KindName(n))));
  }
  *out = n.Scalar();
  return absl::OkStatus();
}

absl::Status YamlDecoder::Bool(const YAML::Node& n, const YamlPos& p,
                               bool* out) const {
  if (n.IsNull()) return absl::OkStatus();
  // YAML 1.1 booleans, as Go's yaml.v2 reads them.
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No",
                                       "NO",    "off",   "Off",   "OFF"};
  if (n.IsScalar()) {
    for (const char* t : kTrue) {
      if (n.Scalar() == t) {
        *out = true;
        return absl::OkStatus();
      }
    }
    for (const char* f : kFalse) {
      if (n.Scalar() == f) {
        *out = false;
        return absl::OkStatus();
      }
    }
  }
  return Error(p, "expected a boolean (true or false)");
}

absl::Status YamlDecoder::Uint64(const YAML::Node& n, const YamlPos& p,
                                 uint64_t* out) const {
  if (n.IsNull()) return absl::OkStatus();
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && end == s.data() + s.size() && !s.empty()) {
      *out = v;
      return absl::OkStatus();
    }
  }
  return Error(p, "expected a non-negative integer");
}

absl::Status YamlDecoder::Duration(const YAML::Node& n, const YamlPos& p,
                                   absl::Duration* out) const {
  if (n.IsNull()) return absl::OkStatus();
  if (!n.IsScalar()) {
    return Error(p, absl::StrCat("expected a duration, got ", Sv(KindName(n))));
  }
  absl::StatusOr<absl::Duration> d = base::ParseDuration(n.Scalar());
  if (!d.ok()) return Error(p, StdSv(d.status().message()));
  *out = *d;
  return absl::OkStatus();
}

absl::Status YamlDecoder::StringList(const YAML::Node& n, const YamlPos& p,
                                     std::vector<std::string>* out) const {
  out->clear();
  return Seq(n, p, [&](const YAML::Node& e, const YamlPos& ep) {
    std::string s;
    if (e.IsNull()) return Error(ep, "expected a string, got null");
    absl::Status st = String(e, ep, &s);
    if (st.ok()) out->push_back(std::move(s));
    return st;
  });
}

absl::Status YamlDecoder::StringMap(
    const YAML::Node& n, const YamlPos& p,
    std::vector<std::pair<std::string, std::string>>* out) const {
  out->clear();
  if (n.IsNull()) return absl::OkStatus();
  if (!n.IsMap()) {
    return Error(p, absl::StrCat("expected a map, got ", Sv(KindName(n))));
  }
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (!it->first.IsScalar()) {
      return Error(p, "map keys must be strings");
    }
    YamlPos child = p.Child(it->first.Scalar(), it->first);
    std::string v;
    absl::Status s = String(it->second, child, &v);
    if (!s.ok()) return s;
    out->emplace_back(it->first.Scalar(), std::move(v));
  }
  return absl::OkStatus();
}

}  // namespace pantau::metrics::scrape
