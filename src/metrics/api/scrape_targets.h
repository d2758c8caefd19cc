// ScrapeTargetsProvider: /api/v1/targets over the scrape manager. In its
// own CMake target (pantau_metrics_api_scrape) so pantau_metrics_api does
// not depend on scraping.
//
//   ScrapeTargetsProvider targets(&scrape_manager);
//   deps.targets = &targets;
//
// Thread safety: safe for concurrent use (the manager is).
#ifndef PANTAU_METRICS_API_SCRAPE_TARGETS_H_
#define PANTAU_METRICS_API_SCRAPE_TARGETS_H_

#include <vector>

#include "metrics/api/providers.h"
#include "metrics/scrape/scrape_manager.h"

namespace pantau::metrics::api {

class ScrapeTargetsProvider : public TargetsProvider {
 public:
  // `manager` is not owned and must outlive the provider.
  explicit ScrapeTargetsProvider(const scrape::ScrapeManager* manager)
      : manager_(manager) {}

  std::vector<TargetInfo> ActiveTargets() const override;
  std::vector<DroppedTargetInfo> DroppedTargets() const override;

 private:
  const scrape::ScrapeManager* manager_;
};

}  // namespace pantau::metrics::api

#endif  // PANTAU_METRICS_API_SCRAPE_TARGETS_H_
