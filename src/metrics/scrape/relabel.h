// Relabeling as in Prometheus 2.42 (`relabel_configs` and
// `metric_relabel_configs`): every action, the same defaults (separator
// ";", regex "(.*)" fully anchored, replacement "$1", action replace), the
// same validation messages and the same results, including `hashmod`'s
// MD5-based sharding and Go's `$1` / `${name}` replacement syntax.
//
// Thread safety: a compiled Relabeler is immutable; share it freely.
#ifndef PANTAU_METRICS_SCRAPE_RELABEL_H_
#define PANTAU_METRICS_SCRAPE_RELABEL_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/labels.h"

namespace re2 {
class RE2;
}

namespace pantau::metrics::scrape {

enum class RelabelAction {
  kReplace,
  kKeep,
  kDrop,
  kKeepEqual,
  kDropEqual,
  kHashMod,
  kLabelMap,
  kLabelDrop,
  kLabelKeep,
  kLowercase,
  kUppercase,
};

// "replace", "keep", ... as written in YAML (case-insensitive, as in
// Prometheus); nullopt for an unknown action.
std::optional<RelabelAction> ParseRelabelAction(std::string_view s);
std::string_view RelabelActionName(RelabelAction a);

inline constexpr std::string_view kDefaultRelabelSeparator = ";";
inline constexpr std::string_view kDefaultRelabelRegex = "(.*)";
inline constexpr std::string_view kDefaultRelabelReplacement = "$1";

// One step, as in YAML. Defaults are Prometheus's.
struct RelabelConfig {
  std::vector<std::string> source_labels;
  std::string separator{kDefaultRelabelSeparator};
  std::string regex{kDefaultRelabelRegex};  // anchored at both ends
  uint64_t modulus = 0;                     // hashmod only; must be > 0
  std::string target_label;
  std::string replacement{kDefaultRelabelReplacement};
  RelabelAction action = RelabelAction::kReplace;
};

// Checks a step the way Prometheus's config loader does (e.g. "relabel
// configuration for replace action requires 'target_label' value"), and
// that the regex compiles.
absl::Status ValidateRelabelConfig(const RelabelConfig& config);

// A compiled list of steps.
class Relabeler {
 public:
  // An empty list: Process returns its input.
  Relabeler() = default;
  // Validates and compiles; the error names the step ("relabel step 2: ").
  static absl::StatusOr<Relabeler> Create(std::vector<RelabelConfig> configs);

  // Applies every step in order. nullopt when a keep/drop step drops the
  // set. An empty result is returned as such (callers drop it).
  std::optional<base::Labels> Process(const base::Labels& labels) const;

  bool empty() const { return steps_.empty(); }
  size_t size() const { return steps_.size(); }

 private:
  struct Step {
    RelabelConfig config;
    std::shared_ptr<const re2::RE2> re;
  };
  std::vector<Step> steps_;
};

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_RELABEL_H_
