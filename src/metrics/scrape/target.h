// A scrape target: what service discovery found (discovered labels), what
// relabel_configs made of it (final labels), and how to scrape it (URL,
// interval, timeout). Follows Prometheus 2.42's PopulateLabels: job,
// __scheme__, __metrics_path__, __scrape_interval__, __scrape_timeout__
// and __param_* defaults before relabeling; a missing port gets the
// scheme's default; __meta_* labels are dropped after relabeling; instance
// defaults to the address; labels starting with "__" never reach samples.
//
// Thread safety: plain data and pure functions.
#ifndef PANTAU_METRICS_SCRAPE_TARGET_H_
#define PANTAU_METRICS_SCRAPE_TARGET_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/labels.h"
#include "metrics/scrape/config.h"
#include "metrics/scrape/relabel.h"

namespace pantau::metrics::scrape {

struct Target {
  // After relabeling, including "__" labels (__address__, __scheme__, ...).
  base::Labels labels;
  // Before relabeling, for /api/v1/targets' discoveredLabels.
  base::Labels discovered_labels;
  std::string url;
  absl::Duration interval;
  absl::Duration timeout;

  // The labels attached to every sample: `labels` without "__" names.
  base::Labels PublicLabels() const;
};

struct PopulateResult {
  std::optional<Target> target;  // nullopt: dropped by relabeling
  base::Labels discovered_labels;
};

// Builds the target for one address of a group. Errors (no address after
// relabeling, a URL-like address, bad interval labels) name the problem;
// the manager lists such targets as dropped.
absl::StatusOr<PopulateResult> PopulateTarget(const ScrapeConfig& config,
                                              const Relabeler& relabeler,
                                              const base::Labels& group_labels,
                                              const std::string& address);

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_TARGET_H_
