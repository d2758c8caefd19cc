// How a scrape loop fetches a target's metrics: one HTTP GET behind a small
// interface, so loops are tested with a fake and the server plugs in the
// real client (NetFetcher, over pantau::net::HttpClient).
//
// Thread safety: implementations must allow concurrent Fetch calls.
#ifndef PANTAU_METRICS_SCRAPE_FETCHER_H_
#define PANTAU_METRICS_SCRAPE_FETCHER_H_

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pantau::metrics::scrape {

struct FetchRequest {
  std::string url;  // http(s)://host:port/path?query
  // Accept, Accept-Encoding, Authorization, User-Agent,
  // X-Prometheus-Scrape-Timeout-Seconds.
  std::vector<std::pair<std::string, std::string>> headers;
  absl::Duration timeout;
  // The fetch fails (RESOURCE_EXHAUSTED) past this many body bytes.
  size_t max_body_bytes = 0;
};

struct FetchResponse {
  int status = 0;
  std::string content_type;
  std::string content_encoding;  // e.g. "gzip"; the loop decompresses
  std::string body;
};

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // Errors: DEADLINE_EXCEEDED on timeout, UNAVAILABLE when the connection
  // fails, RESOURCE_EXHAUSTED for an oversized body.
  virtual absl::StatusOr<FetchResponse> Fetch(const FetchRequest& request) = 0;
};

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_FETCHER_H_
