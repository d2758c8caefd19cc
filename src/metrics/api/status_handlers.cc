// /api/v1/metadata, /api/v1/targets and /api/v1/status/*.
#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/time.h"
#include "base/strings.h"
#include "base/time.h"
#include "metrics/api/handlers.h"
#include "metrics/api/params.h"

namespace pantau::metrics::api::internal {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::RequestContext;

// Go's time.Time JSON form (RFC 3339 with nanoseconds, zeros trimmed);
// Go's zero time for "never".
std::string GoTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "0001-01-01T00:00:00Z";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

void WriteStats(JsonWriter& w, std::string_view key,
                const std::vector<TsdbStat>& stats) {
  w.Key(key);
  w.BeginArray();
  for (const TsdbStat& s : stats) {
    w.BeginObject();
    w.Key("name");
    w.String(s.name);
    w.Key("value");
    w.Uint(s.value);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

HttpResponse HandleMetadata(const ApiDeps& deps, const HttpRequest& req,
                            RequestContext&) {
  int64_t limit = -1;
  if (!req.Param("limit").empty()) {
    int64_t n;
    if (!absl::SimpleAtoi(base::Sv(req.Param("limit")), &n)) {
      return Error(BadData("limit must be a number"));
    }
    limit = n;
  }
  int64_t per_metric = -1;
  if (!req.Param("limit_per_metric").empty()) {
    if (!absl::SimpleAtoi(base::Sv(req.Param("limit_per_metric")),
                          &per_metric)) {
      return Error(BadData("limit_per_metric must be a number"));
    }
  }
  using Entry = std::tuple<std::string, std::string, std::string>;
  std::map<std::string, std::vector<Entry>> metrics;
  if (deps.metadata != nullptr) {
    for (MetricMetadata& m : deps.metadata->Metadata(req.Param("metric"))) {
      std::vector<Entry>& v = metrics[m.metric];
      Entry e{std::move(m.type), std::move(m.help), std::move(m.unit)};
      if (std::find(v.begin(), v.end(), e) == v.end()) v.push_back(e);
    }
  }
  return Success([&](JsonWriter& w) {
    w.BeginObject();
    int64_t n = 0;
    for (const auto& [name, entries] : metrics) {
      if (limit >= 0 && n >= limit) break;
      ++n;
      w.Key(name);
      w.BeginArray();
      int64_t k = 0;
      for (const Entry& e : entries) {
        if (per_metric > 0 && k >= per_metric) break;
        ++k;
        w.BeginObject();
        w.Key("type");
        w.String(std::get<0>(e));
        w.Key("help");
        w.String(std::get<1>(e));
        w.Key("unit");
        w.String(std::get<2>(e));
        w.EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  });
}

HttpResponse HandleTargets(const ApiDeps& deps, const HttpRequest& req,
                           RequestContext&) {
  std::string state(req.Param("state"));
  std::transform(state.begin(), state.end(), state.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  bool show_active = state.empty() || state == "any" || state == "active";
  bool show_dropped = state.empty() || state == "any" || state == "dropped";
  std::vector<TargetInfo> active;
  std::vector<DroppedTargetInfo> dropped;
  if (deps.targets != nullptr) {
    if (show_active) active = deps.targets->ActiveTargets();
    if (show_dropped) dropped = deps.targets->DroppedTargets();
  }
  // Prometheus lists active targets by scrape pool name.
  std::stable_sort(active.begin(), active.end(),
                   [](const TargetInfo& a, const TargetInfo& b) {
                     return a.scrape_pool < b.scrape_pool;
                   });
  return Success([&](JsonWriter& w) {
    w.BeginObject();
    w.Key("activeTargets");
    w.BeginArray();
    for (const TargetInfo& t : active) {
      w.BeginObject();
      w.Key("discoveredLabels");
      w.LabelsObject(t.discovered_labels);
      w.Key("labels");
      w.LabelsObject(t.labels);
      w.Key("scrapePool");
      w.String(t.scrape_pool);
      w.Key("scrapeUrl");
      w.String(t.scrape_url);
      w.Key("globalUrl");
      w.String(t.global_url.empty() ? t.scrape_url : t.global_url);
      w.Key("lastError");
      w.String(t.last_error);
      w.Key("lastScrape");
      w.String(GoTime(t.last_scrape));
      w.Key("lastScrapeDuration");
      w.Double(absl::ToDoubleSeconds(t.last_scrape_duration));
      w.Key("health");
      w.String(t.health);
      w.Key("scrapeInterval");
      w.String(base::FormatDuration(t.scrape_interval));
      w.Key("scrapeTimeout");
      w.String(base::FormatDuration(t.scrape_timeout));
      w.EndObject();
    }
    w.EndArray();
    w.Key("droppedTargets");
    w.BeginArray();
    for (const DroppedTargetInfo& t : dropped) {
      w.BeginObject();
      w.Key("discoveredLabels");
      w.LabelsObject(t.discovered_labels);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

HttpResponse HandleBuildInfo(const ApiDeps& deps, const HttpRequest&,
                             RequestContext&) {
  BuildInfo b = deps.build_info ? deps.build_info() : BuildInfo{};
  return Success([&](JsonWriter& w) {
    w.BeginObject();
    w.Key("version");
    w.String(b.version);
    w.Key("revision");
    w.String(b.revision);
    w.Key("branch");
    w.String(b.branch);
    w.Key("buildUser");
    w.String(b.build_user);
    w.Key("buildDate");
    w.String(b.build_date);
    w.Key("goVersion");
    w.String(b.go_version);
    w.EndObject();
  });
}

HttpResponse HandleConfig(const ApiDeps& deps, const HttpRequest&,
                          RequestContext&) {
  std::string yaml = deps.config_yaml ? deps.config_yaml() : std::string();
  return Success([&](JsonWriter& w) {
    w.BeginObject();
    w.Key("yaml");
    w.String(yaml);
    w.EndObject();
  });
}

HttpResponse HandleFlags(const ApiDeps& deps, const HttpRequest&,
                         RequestContext&) {
  std::vector<std::pair<std::string, std::string>> flags;
  if (deps.flags) flags = deps.flags();
  return Success([&](JsonWriter& w) {
    w.BeginObject();
    for (const auto& [k, v] : flags) {
      w.Key(k);
      w.String(v);
    }
    w.EndObject();
  });
}

HttpResponse HandleRuntimeInfo(const ApiDeps& deps, const HttpRequest&,
                               RequestContext&) {
  RuntimeInfo r = deps.runtime_info ? deps.runtime_info() : RuntimeInfo{};
  return Success([&](JsonWriter& w) {
    w.BeginObject();
    w.Key("startTime");
    w.String(GoTime(r.start_time));
    w.Key("CWD");
    w.String(r.cwd);
    w.Key("reloadConfigSuccess");
    w.Bool(r.reload_config_success);
    w.Key("lastConfigTime");
    w.String(GoTime(r.last_config_time));
    w.Key("corruptionCount");
    w.Int(r.corruption_count);
    w.Key("goroutineCount");
    w.Int(r.goroutine_count);
    w.Key("GOMAXPROCS");
    w.Int(r.gomaxprocs);
    w.Key("GOGC");
    w.String(r.gogc);
    w.Key("GODEBUG");
    w.String(r.godebug);
    w.Key("storageRetention");
    w.String(r.storage_retention);
    w.EndObject();
  });
}

HttpResponse HandleTsdbStatus(const ApiDeps& deps, const HttpRequest& req,
                              RequestContext&) {
  int64_t limit = 10;
  if (!req.Param("limit").empty()) {
    if (!absl::SimpleAtoi(base::Sv(req.Param("limit")), &limit) || limit < 1) {
      return Error(BadData("limit must be a positive number"));
    }
  }
  absl::StatusOr<TsdbStatus> s;
  if (deps.tsdb_stats != nullptr) {
    s = deps.tsdb_stats->Stats(static_cast<size_t>(limit));
  } else {
    // Without a provider: the head's window, roughly the last 3 hours.
    int64_t now = NowMs(deps);
    s = ComputeTsdbStatus(*deps.queryable, now - 3 * 3600 * 1000, now,
                          static_cast<size_t>(limit));
  }
  if (!s.ok()) {
    return Error(absl::InternalError(s.status().message()));
  }
  return Success([&](JsonWriter& w) {
    w.BeginObject();
    w.Key("headStats");
    w.BeginObject();
    w.Key("numSeries");
    w.Uint(s->num_series);
    w.Key("numLabelPairs");
    w.Int(s->num_label_pairs);
    w.Key("chunkCount");
    w.Int(s->chunk_count);
    w.Key("minTime");
    w.Int(s->min_time);
    w.Key("maxTime");
    w.Int(s->max_time);
    w.EndObject();
    WriteStats(w, "seriesCountByMetricName", s->series_count_by_metric_name);
    WriteStats(w, "labelValueCountByLabelName",
               s->label_value_count_by_label_name);
    WriteStats(w, "memoryInBytesByLabelName", s->memory_in_bytes_by_label_name);
    WriteStats(w, "seriesCountByLabelValuePair",
               s->series_count_by_label_value_pair);
    w.EndObject();
  });
}

}  // namespace pantau::metrics::api::internal
