// The Prometheus HTTP API (/api/v1/* and /federate) as Prometheus 2.42
// serves it and Grafana's Prometheus data source calls it: the same
// parameters, response envelopes, errorType values, status codes and number
// formatting.
//
//   ApiDeps deps;
//   deps.queryable = &db; deps.engine = &engine; deps.targets = &targets; ...
//   PANTAU_RETURN_IF_ERROR(RegisterPrometheusApi(router, std::move(deps)));
//
// Routes (GET, and form-encoded POST where Prometheus takes both):
//   /api/v1/query, /api/v1/query_range, /api/v1/query_exemplars,
//   /api/v1/format_query, /api/v1/series, /api/v1/labels,
//   /api/v1/label/:name/values, /api/v1/metadata, /api/v1/targets,
//   /api/v1/status/{buildinfo,config,flags,runtimeinfo,tsdb}, /federate.
//
// Thread safety: handlers are safe to run concurrently; ApiDeps' pointers
// must outlive the router and be safe for concurrent use.
#ifndef PANTAU_METRICS_API_API_H_
#define PANTAU_METRICS_API_API_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/labels.h"
#include "base/time.h"
#include "metrics/api/providers.h"
#include "metrics/promql/engine.h"
#include "metrics/storage/storage.h"
#include "net/router.h"

namespace pantau::metrics::api {

// /api/v1/status/buildinfo.
struct BuildInfo {
  std::string version;
  std::string revision;
  std::string branch;
  std::string build_user;
  std::string build_date;
  std::string go_version;  // Prometheus's field; we put the compiler here
};

// /api/v1/status/runtimeinfo.
struct RuntimeInfo {
  absl::Time start_time = absl::UnixEpoch();
  std::string cwd;
  bool reload_config_success = true;
  absl::Time last_config_time = absl::UnixEpoch();
  int64_t corruption_count = 0;
  int64_t goroutine_count = 0;  // threads, for Prometheus's field
  int64_t gomaxprocs = 0;       // cores
  std::string gogc;
  std::string godebug;
  std::string storage_retention;  // e.g. "15d"
};

struct ApiLimits {
  // Range queries with more points per series are refused (bad_data).
  int64_t max_points_per_series = 11000;
};

struct ApiDeps {
  // Required: the store queries read and the engine that runs them.
  Queryable* queryable = nullptr;
  const promql::Engine* engine = nullptr;
  // Optional providers; when null the endpoints answer with empty data
  // (/status/tsdb then computes its statistics from `queryable`).
  TargetsProvider* targets = nullptr;
  MetadataProvider* metadata = nullptr;
  ExemplarQueryable* exemplars = nullptr;
  TsdbStatsProvider* tsdb_stats = nullptr;
  // The time "now" for queries without `time` and for /federate; default
  // the real clock.
  base::Clock* clock = nullptr;
  // Status endpoints; each may be empty (answers with empty data).
  std::function<BuildInfo()> build_info;
  std::function<std::string()> config_yaml;
  // Flag name -> value, in the order to show.
  std::function<std::vector<std::pair<std::string, std::string>>()> flags;
  std::function<RuntimeInfo()> runtime_info;
  // Added to every series /federate writes unless the series has the label
  // (Prometheus's global.external_labels).
  std::function<base::Labels()> external_labels;
  ApiLimits limits;
};

// Registers every route above on `router`. Fails with INVALID_ARGUMENT if
// queryable or engine is null, or with the router's error on a clash.
absl::Status RegisterPrometheusApi(net::Router& router, ApiDeps deps);

}  // namespace pantau::metrics::api

#endif  // PANTAU_METRICS_API_API_H_
