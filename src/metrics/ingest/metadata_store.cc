#include "metrics/ingest/metadata_store.h"

#include "base/strings.h"

namespace pantau::metrics::ingest {

void MetadataStore::Set(std::string_view family, PushedMetadata m) {
  if (family.empty()) return;
  absl::MutexLock l(&mu_);
  auto it = families_.find(base::Sv(family));
  if (it != families_.end()) {
    if (!(it->second == m)) it->second = std::move(m);
    return;
  }
  if (families_.size() >= max_families_) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  families_.emplace(std::string(family), std::move(m));
}

std::vector<std::pair<std::string, PushedMetadata>> MetadataStore::Get(
    std::string_view family) const {
  absl::MutexLock l(&mu_);
  if (!family.empty()) {
    auto it = families_.find(base::Sv(family));
    if (it == families_.end()) return {};
    return {*it};
  }
  return {families_.begin(), families_.end()};
}

std::string_view RemoteWriteTypeName(uint64_t type) {
  static constexpr std::string_view kNames[] = {
      "unknown",        "counter", "gauge", "histogram",
      "gaugehistogram", "summary", "info",  "stateset"};
  return type < std::size(kNames) ? kNames[type] : "unknown";
}

}  // namespace pantau::metrics::ingest
