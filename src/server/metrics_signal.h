// The metrics signal inside `pantau serve`: the TSDB under
// <storage.path>/metrics, the remote_write receiver, the scrape manager,
// and the self-metrics that describe them. Server owns one and forwards
// start, reload and shutdown to it.
//
// Thread safety: Open/ApplyScrapeSettings/Close from the server's control
// thread; the HTTP handlers it registers run concurrently.
#ifndef PANTAU_SERVER_METRICS_SIGNAL_H_
#define PANTAU_SERVER_METRICS_SIGNAL_H_

#include <atomic>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "metrics/api/api.h"
#include "server/gated.h"
#include "server/options.h"

namespace pantau::net {
class HttpClient;
class Router;
}  // namespace pantau::net
namespace grpc {
class Service;
}
namespace pantau::sdk {
class Registry;
}
namespace pantau::metrics {
class Storage;
namespace tsdb {
class DB;
}
namespace exemplar {
class ExemplarStorage;
class TeeAppendable;
}  // namespace exemplar
namespace ingest {
struct IngestCounters;
class MetadataStore;
class OtlpMetricsReceiver;
class RemoteWriteReceiver;
}  // namespace ingest
namespace scrape {
class Fetcher;
class ScrapeManager;
struct ScrapeSettings;
}  // namespace scrape
}  // namespace pantau::metrics

namespace pantau::server {

class MetricsSignal {
 public:
  MetricsSignal();
  ~MetricsSignal();

  // Opens (and recovers) the TSDB and starts scraping per the config file.
  absl::Status Open(const Options& options, sdk::Registry* registry);
  // Adds the write routes and the Prometheus query API. `api` carries the
  // server's callbacks (build info, flags, ...); the stores are filled in
  // here.
  absl::Status RegisterRoutes(net::Router& router, const Options& options,
                              metrics::api::ApiDeps api);
  // Re-reads scrape settings from the config file and applies them.
  absl::Status Reload(const Options& options);
  // Stops scraping, then closes the TSDB (writing its head snapshot).
  absl::Status Close();

  metrics::Storage* storage();
  // The OTLP/gRPC metrics service; valid after Open.
  grpc::Service* otlp_grpc_service() { return otlp_grpc_.get(); }

 private:
  std::unique_ptr<metrics::tsdb::DB> db_;
  std::unique_ptr<metrics::exemplar::ExemplarStorage> exemplars_;
  // Every ingest path writes through it: samples to db_, exemplars to
  // exemplars_.
  std::unique_ptr<metrics::exemplar::TeeAppendable> appendable_;
  std::unique_ptr<metrics::ingest::MetadataStore> pushed_metadata_;
  std::unique_ptr<metrics::api::ExemplarQueryable> exemplar_api_;
  std::unique_ptr<metrics::api::MetadataProvider> metadata_api_;
  std::unique_ptr<metrics::ingest::IngestCounters> counters_;
  std::unique_ptr<metrics::ingest::RemoteWriteReceiver> remote_write_;
  std::unique_ptr<metrics::ingest::OtlpMetricsReceiver> otlp_;
  std::unique_ptr<grpc::Service> otlp_grpc_;
  std::unique_ptr<net::HttpClient> scrape_client_;
  std::unique_ptr<metrics::scrape::Fetcher> fetcher_;
  std::unique_ptr<metrics::scrape::ScrapeManager> scrape_;
  std::unique_ptr<metrics::promql::Engine> engine_;
  std::unique_ptr<metrics::api::TargetsProvider> targets_;
  GatedQueryable gated_queryable_;
  GatedTargets gated_targets_;
  GatedExemplars gated_exemplars_;
  GatedMetadata gated_metadata_;
  // Set once Open has finished; handlers answer 503 until then.
  std::atomic<bool> open_{false};
};

// The `global` and `scrape_configs` sections of the config file (defaults
// when there is no file). Errors name the file and line.
absl::StatusOr<metrics::scrape::ScrapeSettings> LoadScrapeSettings(
    const std::string& config_file);

}  // namespace pantau::server

#endif  // PANTAU_SERVER_METRICS_SIGNAL_H_
