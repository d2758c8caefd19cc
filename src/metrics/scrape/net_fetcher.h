// The production Fetcher: scrapes over pantau::net::HttpClient.
//
// Thread safety: Fetch may be called concurrently (HttpClient is
// thread-safe).
#ifndef PANTAU_METRICS_SCRAPE_NET_FETCHER_H_
#define PANTAU_METRICS_SCRAPE_NET_FETCHER_H_

#include "metrics/scrape/fetcher.h"

namespace pantau::net {
class HttpClient;
}

namespace pantau::metrics::scrape {

class NetFetcher : public Fetcher {
 public:
  // `client` must outlive the fetcher.
  explicit NetFetcher(net::HttpClient* client) : client_(client) {}
  absl::StatusOr<FetchResponse> Fetch(const FetchRequest& request) override;

 private:
  net::HttpClient* client_;
};

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_NET_FETCHER_H_
