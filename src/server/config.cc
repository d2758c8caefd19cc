#include "server/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"
#include "base/strings.h"

namespace pantau::server {
namespace {

using base::Sv;

// Sections of Prometheus's configuration that pantau does not implement
// yet. Naming them gives a precise error instead of "unknown field".
constexpr std::string_view kNotYetSupported[] = {
    "rule_files",  "alerting", "remote_write",
    "remote_read", "tracing",  "scrape_config_files"};

// Sections decoded (just as strictly) by the module that owns them; the
// server hands it the whole file (metrics/scrape/config.h).
constexpr std::string_view kModuleSections[] = {"global", "scrape_configs"};

// A tree of the known keys, built from the option table.
struct KeyNode {
  const OptionSpec* option = nullptr;  // set on leaves
  std::map<std::string, KeyNode> children;
};

KeyNode BuildKeyTree() {
  KeyNode root;
  for (const OptionSpec& spec : AllOptions()) {
    KeyNode* node = &root;
    for (absl::string_view part : absl::StrSplit(spec.key_path, '.')) {
      node = &node->children[std::string(part)];
    }
    node->option = &spec;
  }
  return root;
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1,
                         prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

class Walker {
 public:
  Walker(std::string_view filename, Config* config)
      : filename_(filename), config_(config) {}

  absl::Status Error(const YAML::Node& node, std::string_view path,
                     std::string_view msg) const {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(filename_), ":", node.Mark().line + 1, ": ",
                     Sv(path.empty() ? "(top level)" : path), ": ", Sv(msg)));
  }

  absl::Status Walk(const YAML::Node& node, const KeyNode& known,
                    const std::string& path) {
    if (!node.IsMap()) {
      return Error(node, path, "expected a mapping of keys to values");
    }
    for (const auto& kv : node) {
      const YAML::Node& key = kv.first;
      const YAML::Node& value = kv.second;
      if (!key.IsScalar()) return Error(key, path, "keys must be strings");
      std::string name = key.Scalar();
      std::string child_path =
          path.empty() ? name : absl::StrCat(path, ".", name);
      if (path.empty() &&
          std::find(std::begin(kNotYetSupported), std::end(kNotYetSupported),
                    name) != std::end(kNotYetSupported)) {
        return Error(key, child_path,
                     "not supported yet by this version of pantau "
                     "(see docs/configuration.md)");
      }
      if (path.empty() &&
          std::find(std::begin(kModuleSections), std::end(kModuleSections),
                    name) != std::end(kModuleSections)) {
        continue;
      }
      auto it = known.children.find(name);
      if (it == known.children.end()) {
        return Error(key, child_path,
                     absl::StrCat("unknown field", Suggestion(name, known)));
      }
      const KeyNode& child = it->second;
      if (child.option != nullptr) {
        PANTAU_RETURN_IF_ERROR(SetLeaf(value, *child.option, child_path));
      } else {
        if (value.IsNull()) continue;  // an empty section is fine
        PANTAU_RETURN_IF_ERROR(Walk(value, child, child_path));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status SetLeaf(const YAML::Node& value, const OptionSpec& spec,
                       const std::string& path) {
    if (!value.IsScalar()) {
      return Error(value, path,
                   "expected a single value, not a list or mapping");
    }
    absl::Status st = spec.set(&config_->options, value.Scalar());
    if (!st.ok()) return Error(value, path, base::StdSv(st.message()));
    config_->keys_set.push_back(spec.key_path);
    return absl::OkStatus();
  }

  static std::string Suggestion(const std::string& name, const KeyNode& known) {
    std::string best;
    size_t best_distance = 3;  // suggest only close matches
    for (const auto& [candidate, unused] : known.children) {
      size_t d = EditDistance(name, candidate);
      if (d < best_distance) {
        best_distance = d;
        best = candidate;
      }
    }
    if (best.empty()) {
      std::vector<std::string> names;
      for (const auto& [candidate, unused] : known.children)
        names.push_back(candidate);
      return absl::StrCat(" (known: ", absl::StrJoin(names, ", "), ")");
    }
    return absl::StrCat(" (did you mean ", best, "?)");
  }

  std::string_view filename_;
  Config* config_;
};

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view text,
                                   std::string_view filename,
                                   const Options& defaults) {
  Config config;
  config.options = defaults;
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        Sv(filename), ":", e.mark.line + 1, ": invalid YAML: ", e.msg));
  }
  if (root.IsNull()) return config;  // an empty file means all defaults
  static const KeyNode* known = new KeyNode(BuildKeyTree());
  Walker walker(filename, &config);
  try {
    PANTAU_RETURN_IF_ERROR(walker.Walk(root, *known, ""));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(Sv(filename), ":", e.mark.line + 1, ": ", e.msg));
  }
  return config;
}

absl::StatusOr<Config> LoadConfigFile(const std::string& path,
                                      const Options& defaults) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read config file ", path,
                                            ": ", std::strerror(errno)));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path, defaults);
}

}  // namespace pantau::server
