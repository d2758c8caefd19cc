#include "server/metrics_signal.h"

#include <grpcpp/impl/codegen/service_type.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "metrics/api/scrape_targets.h"
#include "metrics/exemplar/exemplar_storage.h"
#include "metrics/exemplar/tee_appendable.h"
#include "metrics/ingest/metadata_store.h"
#include "metrics/ingest/otlp_metrics.h"
#include "metrics/ingest/remote_write.h"
#include "metrics/scrape/config.h"
#include "metrics/scrape/net_fetcher.h"
#include "metrics/scrape/scrape_manager.h"
#include "metrics/tsdb/db.h"
#include "net/http_client.h"
#include "net/router.h"
#include "pantau/sdk/metrics.h"
#include "server/otlp_grpc.h"

namespace pantau::server {
namespace {

using metrics::ingest::RejectReason;

class ExemplarApi : public metrics::api::ExemplarQueryable {
 public:
  explicit ExemplarApi(metrics::exemplar::ExemplarStorage* storage)
      : storage_(storage) {}
  absl::StatusOr<std::vector<metrics::ExemplarSeries>> SelectExemplars(
      int64_t start_ms, int64_t end_ms,
      const std::vector<std::vector<metrics::Matcher>>& matcher_sets) override {
    return storage_->Select(start_ms, end_ms, matcher_sets);
  }

 private:
  metrics::exemplar::ExemplarStorage* storage_;
};

// /api/v1/metadata: what scrape targets said in their HELP/TYPE/UNIT lines,
// then what pushed data (remote_write metadata, OTLP descriptions) said.
class MetadataApi : public metrics::api::MetadataProvider {
 public:
  MetadataApi(const metrics::scrape::ScrapeManager* scrape,
              const metrics::ingest::MetadataStore* pushed)
      : scrape_(scrape), pushed_(pushed) {}
  std::vector<metrics::api::MetricMetadata> Metadata(
      std::string_view metric) const override {
    std::vector<metrics::api::MetricMetadata> out;
    for (auto& [name, m] : scrape_->Metadata(metric)) {
      out.push_back(
          {name, std::move(m.type), std::move(m.help), std::move(m.unit)});
    }
    for (auto& [name, m] : pushed_->Get(metric)) {
      out.push_back(
          {name, std::move(m.type), std::move(m.help), std::move(m.unit)});
    }
    return out;
  }

 private:
  const metrics::scrape::ScrapeManager* scrape_;
  const metrics::ingest::MetadataStore* pushed_;
};

void RegisterScrapeMetrics(sdk::Registry* registry,
                           const metrics::scrape::ScrapeCounters* c) {
  using Field = const std::atomic<uint64_t> metrics::scrape::ScrapeCounters::*;
  auto counter = [&](const char* name, const char* help, Field field) {
    registry->AddCallbackCounter(name, help, [c, field] {
      return static_cast<double>((c->*field).load(std::memory_order_relaxed));
    });
  };
  using metrics::scrape::ScrapeCounters;
  counter("pantau_scrape_total", "Scrapes run.", &ScrapeCounters::scrapes);
  counter("pantau_scrape_failed_total",
          "Scrapes that failed (target down, bad body, sample limit).",
          &ScrapeCounters::failed_scrapes);
  counter("pantau_scrape_exceeded_sample_limit_total",
          "Scrapes that hit the job's sample_limit.",
          &ScrapeCounters::exceeded_sample_limit);
  counter("pantau_scrape_samples_appended_total",
          "Samples stored from scrapes.", &ScrapeCounters::samples_appended);
  counter("pantau_scrape_sample_out_of_order_total",
          "Scraped samples refused as out of order.",
          &ScrapeCounters::samples_out_of_order);
  counter("pantau_scrape_sample_duplicate_timestamp_total",
          "Scraped samples refused as a duplicate timestamp with another "
          "value.",
          &ScrapeCounters::samples_duplicate);
  counter("pantau_scrape_sample_out_of_bounds_total",
          "Scraped samples refused as older than the head.",
          &ScrapeCounters::samples_out_of_bounds);
  counter("pantau_scrape_sample_series_limit_total",
          "Scraped samples refused by the active-series limits.",
          &ScrapeCounters::samples_series_limit);
  counter("pantau_scrape_stale_markers_total",
          "Staleness markers written for series or targets that went away.",
          &ScrapeCounters::stale_markers);
}

void RegisterExemplarMetrics(sdk::Registry* registry,
                             metrics::exemplar::ExemplarStorage* exemplars) {
  auto stat = [exemplars](auto field) {
    return [exemplars, field] {
      return static_cast<double>(exemplars->Stats().*field);
    };
  };
  using metrics::exemplar::ExemplarStats;
  registry->AddCallbackGauge("pantau_exemplar_max_exemplars",
                             "Capacity of the exemplar ring.",
                             stat(&ExemplarStats::capacity));
  registry->AddCallbackGauge("pantau_exemplar_exemplars_in_storage",
                             "Exemplars in the exemplar ring.",
                             stat(&ExemplarStats::stored));
  registry->AddCallbackGauge("pantau_exemplar_series_with_exemplars_in_storage",
                             "Series with at least one stored exemplar.",
                             stat(&ExemplarStats::series));
  registry->AddCallbackCounter("pantau_exemplar_exemplars_appended_total",
                               "Exemplars stored.",
                               stat(&ExemplarStats::appended));
  registry->AddCallbackCounter(
      "pantau_exemplar_out_of_order_exemplars_total",
      "Exemplars refused as not newer than their series' newest.",
      stat(&ExemplarStats::out_of_order));
  registry->AddCallbackCounter(
      "pantau_exemplar_invalid_exemplars_total",
      "Exemplars refused for a label set over 128 characters.",
      stat(&ExemplarStats::invalid));
  registry->AddCallbackCounter(
      "pantau_exemplar_log_errors_total",
      "Failed writes to the exemplar log (the exemplars stayed in memory).",
      stat(&ExemplarStats::log_errors));
}

void RegisterStorageMetrics(sdk::Registry* registry, metrics::tsdb::DB* db,
                            metrics::ingest::IngestCounters* counters) {
  // Stats are read at scrape time: nothing on the ingest path changes.
  auto stat = [db](auto field) {
    return [db, field] { return static_cast<double>(db->GetStats().*field); };
  };
  using metrics::tsdb::Stats;
  registry->AddCallbackGauge("pantau_tsdb_head_series",
                             "Active series in the head block.",
                             stat(&Stats::head_series));
  registry->AddCallbackGauge("pantau_tsdb_head_memory_bytes",
                             "Approximate memory held by the head block.",
                             stat(&Stats::head_memory_bytes));
  registry->AddCallbackCounter("pantau_tsdb_head_samples_appended_total",
                               "Samples appended to the head.",
                               stat(&Stats::samples_appended));
  registry->AddCallbackCounter("pantau_tsdb_head_series_created_total",
                               "Series created in the head.",
                               stat(&Stats::head_series_created));
  registry->AddCallbackGauge("pantau_tsdb_blocks_loaded",
                             "Persistent blocks on disk.",
                             stat(&Stats::blocks));
  registry->AddCallbackGauge("pantau_tsdb_storage_blocks_bytes",
                             "Bytes used by persistent blocks.",
                             stat(&Stats::block_bytes));
  registry->AddCallbackGauge("pantau_tsdb_wal_storage_size_bytes",
                             "Bytes used by the write-ahead log.",
                             stat(&Stats::wal_bytes));
  registry->AddCallbackCounter("pantau_tsdb_compactions_total",
                               "Block compactions done.",
                               stat(&Stats::compactions));
  registry->AddCallbackCounter("pantau_tsdb_wal_corruptions_total",
                               "WAL segments cut at a torn or corrupt record.",
                               stat(&Stats::wal_corruptions));
  registry->AddCallbackGauge("pantau_tsdb_wal_replay_duration_seconds",
                             "How long the last WAL replay took.",
                             stat(&Stats::wal_replay_seconds));
  registry->AddCallbackCounter(
      "pantau_tsdb_wal_fsyncs_total", "WAL fsync calls.",
      [db] { return static_cast<double>(db->GetStats().wal.fsyncs); });
  registry->AddCallbackCounter("pantau_tsdb_wal_fsync_duration_seconds_total",
                               "Seconds spent in WAL fsync calls.", [db] {
                                 return db->GetStats().wal.fsync_seconds;
                               });
  registry->AddCallbackCounter(
      "pantau_tsdb_wal_fsync_failures_total", "WAL fsync calls that failed.",
      [db] { return static_cast<double>(db->GetStats().wal.fsync_failures); });
  registry->AddCallback(
      {.name = "pantau_tsdb_rejected_samples_total",
       .help = "Samples the TSDB refused, by reason.",
       .label_names = {"reason"}},
      sdk::MetricType::kCounter, [db](sdk::CallbackObserver& o) {
        for (const auto& [reason, n] : db->GetStats().rejected) {
          o.Observe({reason}, static_cast<double>(n));
        }
      });
  registry->AddCallbackCounter(
      "pantau_ingest_requests_total", "Write requests received.",
      [counters] { return static_cast<double>(counters->requests.load()); });
  registry->AddCallbackCounter(
      "pantau_ingest_samples_total", "Samples accepted from write requests.",
      [counters] {
        return static_cast<double>(counters->samples_accepted.load());
      });
  registry->AddCallback(
      {.name = "pantau_ingest_rejected_total",
       .help = "Samples or requests rejected at ingest, by reason.",
       .label_names = {"reason"}},
      sdk::MetricType::kCounter, [counters](sdk::CallbackObserver& o) {
        counters->ForEachRejected([&](std::string_view reason, uint64_t n) {
          o.Observe({std::string(reason)}, static_cast<double>(n));
        });
      });
}

}  // namespace

absl::StatusOr<metrics::scrape::ScrapeSettings> LoadScrapeSettings(
    const std::string& config_file) {
  if (config_file.empty()) return metrics::scrape::ScrapeSettings{};
  std::ifstream in(config_file);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("cannot read config file ", config_file));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return metrics::scrape::ParseScrapeConfigsText(buf.str(), config_file);
}

MetricsSignal::MetricsSignal() = default;
MetricsSignal::~MetricsSignal() { (void)Close(); }

metrics::Storage* MetricsSignal::storage() { return db_.get(); }

absl::Status MetricsSignal::Open(const Options& options,
                                 sdk::Registry* registry) {
  PANTAU_ASSIGN_OR_RETURN(metrics::scrape::ScrapeSettings settings,
                          LoadScrapeSettings(options.config_file));
  metrics::tsdb::Options db_options;
  db_options.dir = options.storage_path + "/metrics";
  db_options.retention_ms =
      absl::ToInt64Milliseconds(options.storage_retention_time);
  db_options.retention_bytes =
      static_cast<uint64_t>(options.storage_retention_size);
  db_options.max_series = options.storage_max_series;
  db_options.max_series_per_metric = options.storage_max_series_per_metric;
  absl::Time start = absl::Now();
  PANTAU_LOG(kInfo, "opening metrics storage", {{"dir", db_options.dir}});
  PANTAU_ASSIGN_OR_RETURN(db_, metrics::tsdb::DB::Open(db_options));
  PANTAU_LOG(kInfo, "metrics storage ready",
             {{"took", absl::Now() - start},
              {"head_series", db_->GetStats().head_series}});

  PANTAU_ASSIGN_OR_RETURN(exemplars_,
                          metrics::exemplar::ExemplarStorage::Open(
                              options.storage_path + "/exemplars",
                              options.storage_exemplars_max_exemplars));
  appendable_ = std::make_unique<metrics::exemplar::TeeAppendable>(
      db_.get(), exemplars_.get());
  pushed_metadata_ = std::make_unique<metrics::ingest::MetadataStore>();
  RegisterExemplarMetrics(registry, exemplars_.get());

  counters_ = std::make_unique<metrics::ingest::IngestCounters>();
  metrics::ingest::RemoteWriteOptions rw;
  rw.max_decompressed_bytes =
      static_cast<size_t>(options.web_max_request_bytes);
  rw.metadata = pushed_metadata_.get();
  remote_write_ = std::make_unique<metrics::ingest::RemoteWriteReceiver>(
      appendable_.get(), counters_.get(), rw);
  metrics::ingest::OtlpOptions otlp;
  otlp.max_decompressed_bytes = rw.max_decompressed_bytes;
  otlp.metadata = pushed_metadata_.get();
  otlp_ = std::make_unique<metrics::ingest::OtlpMetricsReceiver>(
      appendable_.get(), counters_.get(), otlp);
  otlp_grpc_ = NewOtlpMetricsService(otlp_.get());
  RegisterStorageMetrics(registry, db_.get(), counters_.get());

  scrape_client_ = std::make_unique<net::HttpClient>();
  fetcher_ =
      std::make_unique<metrics::scrape::NetFetcher>(scrape_client_.get());
  metrics::scrape::ScrapeManagerOptions sm;
  sm.storage = appendable_.get();
  sm.fetcher = fetcher_.get();
  scrape_ = std::make_unique<metrics::scrape::ScrapeManager>(sm);
  PANTAU_RETURN_IF_ERROR(scrape_->ApplyConfig(settings));
  RegisterScrapeMetrics(registry, &scrape_->counters());
  scrape_->Start();
  targets_ =
      std::make_unique<metrics::api::ScrapeTargetsProvider>(scrape_.get());
  gated_targets_.Set(targets_.get());
  exemplar_api_ = std::make_unique<ExemplarApi>(exemplars_.get());
  gated_exemplars_.Set(exemplar_api_.get());
  metadata_api_ =
      std::make_unique<MetadataApi>(scrape_.get(), pushed_metadata_.get());
  gated_metadata_.Set(metadata_api_.get());
  gated_queryable_.Set(db_.get());
  open_.store(true, std::memory_order_release);
  PANTAU_LOG(kInfo, "scrape manager started",
             {{"jobs", static_cast<int64_t>(settings.scrape_configs.size())}});
  return absl::OkStatus();
}

absl::Status MetricsSignal::RegisterRoutes(net::Router& router,
                                           const Options& options,
                                           metrics::api::ApiDeps api) {
  metrics::promql::EngineOptions eo;
  eo.timeout = options.query_timeout;
  eo.max_samples = options.query_max_samples;
  eo.lookback_delta_ms =
      absl::ToInt64Milliseconds(options.query_lookback_delta);
  engine_ = std::make_unique<metrics::promql::Engine>(eo);
  api.queryable = &gated_queryable_;
  api.engine = engine_.get();
  api.targets = &gated_targets_;
  api.exemplars = &gated_exemplars_;
  api.metadata = &gated_metadata_;
  PANTAU_RETURN_IF_ERROR(metrics::api::RegisterPrometheusApi(router, api));

  // Prometheus remote_write v1: snappy-compressed protobuf. 204 on
  // success; 400 for data the sender must not retry; 5xx only for storage
  // failures worth retrying.
  net::RouteOptions ingest{.executor = net::Executor::kIngest};
  // OTLP/HTTP metrics: protobuf or JSON; partial_success in the body.
  PANTAU_RETURN_IF_ERROR(router.Handle(
      "POST", "/v1/metrics",
      [this](const net::HttpRequest& request, net::RequestContext&) {
        if (!open_.load(std::memory_order_acquire)) {
          return net::HttpResponse::Error(
              503, "pantau is starting: metrics storage recovery in progress");
        }
        metrics::ingest::OtlpHttpResult r =
            otlp_->HandleHttp(request.body, request.Header("Content-Type"),
                              request.Header("Content-Encoding"));
        net::HttpResponse resp;
        resp.status = r.http_status;
        if (!r.content_type.empty()) {
          resp.headers.Set("Content-Type", r.content_type);
        }
        resp.body = std::move(r.body);
        return resp;
      },
      ingest));
  return router.Handle(
      "POST", "/api/v1/write",
      [this](const net::HttpRequest& request, net::RequestContext&) {
        if (!open_.load(std::memory_order_acquire)) {
          return net::HttpResponse::Error(
              503, "pantau is starting: metrics storage recovery in progress");
        }
        metrics::ingest::PushResult r = remote_write_->Handle(
            request.body, request.Header("Content-Encoding"));
        if (r.http_status == 204) {
          net::HttpResponse resp;
          resp.status = 204;
          return resp;
        }
        return net::HttpResponse::Error(r.http_status, r.message);
      },
      ingest);
}

absl::Status MetricsSignal::Reload(const Options& options) {
  PANTAU_ASSIGN_OR_RETURN(metrics::scrape::ScrapeSettings settings,
                          LoadScrapeSettings(options.config_file));
  if (scrape_) PANTAU_RETURN_IF_ERROR(scrape_->ApplyConfig(settings));
  if (exemplars_) {
    PANTAU_RETURN_IF_ERROR(
        exemplars_->Resize(options.storage_exemplars_max_exemplars));
  }
  return absl::OkStatus();
}

absl::Status MetricsSignal::Close() {
  open_.store(false);
  gated_queryable_.Set(nullptr);
  gated_targets_.Set(nullptr);
  gated_exemplars_.Set(nullptr);
  gated_metadata_.Set(nullptr);
  if (scrape_) {
    scrape_->Stop();
    scrape_.reset();
  }
  absl::Status s;
  if (db_) {
    s = db_->Close();
    db_.reset();
  }
  return s;
}

}  // namespace pantau::server
