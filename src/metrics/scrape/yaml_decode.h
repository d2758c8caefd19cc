// Strict YAML decoding helpers: each value is read with its key path and
// source line, so every error reads "file:line: path: message". yaml-cpp
// throws; these helpers catch and return Status.
//
// Thread safety: a YamlDecoder is immutable; functions are reentrant.
#ifndef PANTAU_METRICS_SCRAPE_YAML_DECODE_H_
#define PANTAU_METRICS_SCRAPE_YAML_DECODE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "yaml-cpp/yaml.h"

namespace pantau::metrics::scrape {

// Where a value sits: its key path (e.g. "scrape_configs[0].job_name")
// and the line to report (1-based).
struct YamlPos {
  std::string path;
  int line = 0;
  YamlPos Child(std::string_view key, const YAML::Node& at) const;
  YamlPos Index(size_t i, const YAML::Node& at) const;
};

class YamlDecoder {
 public:
  explicit YamlDecoder(std::string filename) : filename_(std::move(filename)) {}

  absl::Status Error(const YamlPos& pos, std::string_view msg) const;

  struct Field {
    std::string_view name;
    std::function<absl::Status(const YAML::Node&, const YamlPos&)> decode;
  };
  // Decodes a map: each key must be one of `fields` and appear once. A
  // null node is an empty map.
  absl::Status Map(const YAML::Node& node, const YamlPos& pos,
                   const std::vector<Field>& fields) const;
  // Calls fn for each element of a sequence (null: none).
  absl::Status Seq(const YAML::Node& node, const YamlPos& pos,
                   const std::function<absl::Status(const YAML::Node&,
                                                    const YamlPos&)>& fn) const;

  // Scalars. A null node leaves `out` unchanged.
  absl::Status String(const YAML::Node& n, const YamlPos& p,
                      std::string* out) const;
  absl::Status Bool(const YAML::Node& n, const YamlPos& p, bool* out) const;
  absl::Status Uint64(const YAML::Node& n, const YamlPos& p,
                      uint64_t* out) const;
  absl::Status Duration(const YAML::Node& n, const YamlPos& p,
                        absl::Duration* out) const;
  absl::Status StringList(const YAML::Node& n, const YamlPos& p,
                          std::vector<std::string>* out) const;
  // A map of string to string (label sets), keys in file order.
  absl::Status StringMap(
      const YAML::Node& n, const YamlPos& p,
      std::vector<std::pair<std::string, std::string>>* out) const;

  const std::string& filename() const { return filename_; }

 private:
  std::string filename_;
};

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_YAML_DECODE_H_
