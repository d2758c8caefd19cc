#include "metrics/api/scrape_targets.h"

#include <string>

namespace pantau::metrics::api {

std::vector<TargetInfo> ScrapeTargetsProvider::ActiveTargets() const {
  std::vector<TargetInfo> out;
  for (scrape::TargetStatus& s : manager_->ActiveTargets()) {
    TargetInfo t;
    t.scrape_pool = std::move(s.job);
    t.scrape_url = std::move(s.scrape_url);
    t.labels = std::move(s.labels);
    t.discovered_labels = std::move(s.discovered_labels);
    t.health = std::string(scrape::TargetHealthName(s.health));
    t.last_error = std::move(s.last_error);
    t.last_scrape = s.last_scrape;
    t.last_scrape_duration = s.last_scrape_duration;
    t.scrape_interval = s.interval;
    t.scrape_timeout = s.timeout;
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<DroppedTargetInfo> ScrapeTargetsProvider::DroppedTargets() const {
  std::vector<DroppedTargetInfo> out;
  for (scrape::DroppedTarget& d : manager_->DroppedTargets()) {
    out.push_back(DroppedTargetInfo{std::move(d.discovered_labels)});
  }
  return out;
}

}  // namespace pantau::metrics::api
