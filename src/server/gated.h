// Stand-ins handed to the query API before the stores exist: the HTTP
// listener starts before the TSDB has recovered (so /-/healthy answers
// during WAL replay), and the API routes must be registered before the
// listener starts. Until Set() is called they answer UNAVAILABLE (HTTP 503,
// errorType "unavailable") or report nothing.
//
// Thread safety: Set may race with readers; the pointer is atomic and the
// target must outlive every reader (the server clears it before closing).
#ifndef PANTAU_SERVER_GATED_H_
#define PANTAU_SERVER_GATED_H_

#include <atomic>
#include <memory>
#include <vector>

#include "metrics/api/providers.h"
#include "metrics/storage/storage.h"

namespace pantau::server {

class GatedQueryable : public metrics::Queryable {
 public:
  void Set(metrics::Queryable* target) { target_.store(target); }
  absl::StatusOr<std::unique_ptr<metrics::Querier>> NewQuerier(
      int64_t mint, int64_t maxt) override {
    metrics::Queryable* t = target_.load();
    if (t == nullptr) {
      return absl::UnavailableError(
          "pantau is starting: metrics storage recovery in progress");
    }
    return t->NewQuerier(mint, maxt);
  }

 private:
  std::atomic<metrics::Queryable*> target_{nullptr};
};

class GatedTargets : public metrics::api::TargetsProvider {
 public:
  void Set(metrics::api::TargetsProvider* target) { target_.store(target); }
  std::vector<metrics::api::TargetInfo> ActiveTargets() const override {
    auto* t = target_.load();
    return t ? t->ActiveTargets() : std::vector<metrics::api::TargetInfo>{};
  }
  std::vector<metrics::api::DroppedTargetInfo> DroppedTargets() const override {
    auto* t = target_.load();
    return t ? t->DroppedTargets()
             : std::vector<metrics::api::DroppedTargetInfo>{};
  }

 private:
  std::atomic<metrics::api::TargetsProvider*> target_{nullptr};
};

class GatedExemplars : public metrics::api::ExemplarQueryable {
 public:
  void Set(metrics::api::ExemplarQueryable* target) { target_.store(target); }
  absl::StatusOr<std::vector<metrics::ExemplarSeries>> SelectExemplars(
      int64_t start_ms, int64_t end_ms,
      const std::vector<std::vector<metrics::Matcher>>& matcher_sets) override {
    auto* t = target_.load();
    if (t == nullptr) {
      return absl::UnavailableError(
          "pantau is starting: metrics storage recovery in progress");
    }
    return t->SelectExemplars(start_ms, end_ms, matcher_sets);
  }

 private:
  std::atomic<metrics::api::ExemplarQueryable*> target_{nullptr};
};

class GatedMetadata : public metrics::api::MetadataProvider {
 public:
  void Set(metrics::api::MetadataProvider* target) { target_.store(target); }
  std::vector<metrics::api::MetricMetadata> Metadata(
      std::string_view metric) const override {
    auto* t = target_.load();
    return t ? t->Metadata(metric)
             : std::vector<metrics::api::MetricMetadata>{};
  }

 private:
  std::atomic<metrics::api::MetadataProvider*> target_{nullptr};
};

}  // namespace pantau::server

#endif  // PANTAU_SERVER_GATED_H_
