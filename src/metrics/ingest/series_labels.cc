#include "metrics/ingest/series_labels.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "base/varint.h"
#include "metrics/scrape/exposition_parser.h"

namespace pantau::metrics::ingest {

using base::Sv;

absl::StatusOr<base::Labels> ValidatedLabels(
    const std::vector<std::pair<std::string_view, std::string_view>>& pairs) {
  bool sorted = true;
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [name, value] = pairs[i];
    if (!scrape::IsValidLabelName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid label name \"", Sv(name.substr(0, 64)), "\""));
    }
    if (name == base::kMetricName && !scrape::IsValidMetricName(value)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid metric name \"", Sv(value.substr(0, 64)), "\""));
    }
    if (!scrape::IsValidUtf8(value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid UTF-8 in value of label \"", Sv(name), "\""));
    }
    if (i > 0 && !(pairs[i - 1].first < name)) sorted = false;
  }
  if (sorted) {
    // One allocation: encode directly in Labels' format.
    size_t n = 0;
    for (const auto& [name, value] : pairs) {
      if (value.empty()) continue;
      n += base::VarintLength(name.size()) + name.size() +
           base::VarintLength(value.size()) + value.size();
    }
    std::string enc(n, '\0');
    char* p = enc.data();
    for (const auto& [name, value] : pairs) {
      if (value.empty()) continue;
      p = base::EncodeVarint64(p, name.size());
      std::memcpy(p, name.data(), name.size());
      p += name.size();
      p = base::EncodeVarint64(p, value.size());
      std::memcpy(p, value.data(), value.size());
      p += value.size();
    }
    return base::Labels::FromEncoded(std::move(enc));
  }
  std::vector<base::Label> owned;
  owned.reserve(pairs.size());
  for (const auto& [name, value] : pairs) {
    owned.push_back({std::string(name), std::string(value)});
  }
  return base::Labels::FromPairs(std::move(owned));
}

}  // namespace pantau::metrics::ingest
