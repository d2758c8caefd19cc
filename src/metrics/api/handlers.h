// Internal to the API module: the handlers RegisterPrometheusApi installs
// and the response helpers they share. Not for use by other modules.
//
// Thread safety: every function is reentrant; `deps` is read-only.
#ifndef PANTAU_METRICS_API_HANDLERS_H_
#define PANTAU_METRICS_API_HANDLERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "metrics/api/api.h"
#include "metrics/api/json_writer.h"
#include "net/handler.h"

namespace pantau::metrics::api::internal {

// {"status":"success","data":<fill>,"warnings":[...]} (warnings omitted
// when empty, as Prometheus does). `size_hint` is the expected size of the
// body: a large response is then not copied over and over as it grows.
template <typename Fill>
net::HttpResponse Success(Fill&& fill,
                          const std::vector<std::string>& warnings = {},
                          size_t size_hint = 256) {
  std::string body;
  body.reserve(size_hint);
  body.append(R"({"status":"success","data":)");
  JsonWriter w(&body);
  fill(w);
  if (!warnings.empty()) {
    body.append(R"(,"warnings":)");
    JsonWriter ww(&body);
    ww.BeginArray();
    for (const std::string& s : warnings) ww.String(s);
    ww.EndArray();
  }
  body.push_back('}');
  return net::HttpResponse::Json(200, std::move(body));
}

// The Prometheus error envelope with the status code of net/status_http.h.
net::HttpResponse Error(const absl::Status& status);

// INVALID_ARGUMENT → bad_data (400).
absl::Status BadData(std::string_view message);

// Maps an error from running a query (after it parsed) to what Prometheus
// answers: cancellation stays CANCELLED (canceled), a passed deadline is
// DEADLINE_EXCEEDED (timeout), storage failures (INTERNAL, DATA_LOSS,
// UNAVAILABLE) stay as they are (internal), everything else is
// FAILED_PRECONDITION, i.e. 422 execution.
absl::Status ExecError(const absl::Status& status, bool deadline_passed);

int64_t NowMs(const ApiDeps& deps);

net::HttpResponse HandleQuery(const ApiDeps& deps, const net::HttpRequest& req,
                              net::RequestContext& ctx);
net::HttpResponse HandleQueryRange(const ApiDeps& deps,
                                   const net::HttpRequest& req,
                                   net::RequestContext& ctx);
net::HttpResponse HandleQueryExemplars(const ApiDeps& deps,
                                       const net::HttpRequest& req,
                                       net::RequestContext& ctx);
net::HttpResponse HandleFormatQuery(const ApiDeps& deps,
                                    const net::HttpRequest& req,
                                    net::RequestContext& ctx);
net::HttpResponse HandleSeries(const ApiDeps& deps, const net::HttpRequest& req,
                               net::RequestContext& ctx);
net::HttpResponse HandleLabels(const ApiDeps& deps, const net::HttpRequest& req,
                               net::RequestContext& ctx);
net::HttpResponse HandleLabelValues(const ApiDeps& deps,
                                    const net::HttpRequest& req,
                                    net::RequestContext& ctx);
net::HttpResponse HandleMetadata(const ApiDeps& deps,
                                 const net::HttpRequest& req,
                                 net::RequestContext& ctx);
net::HttpResponse HandleTargets(const ApiDeps& deps,
                                const net::HttpRequest& req,
                                net::RequestContext& ctx);
net::HttpResponse HandleBuildInfo(const ApiDeps& deps,
                                  const net::HttpRequest& req,
                                  net::RequestContext& ctx);
net::HttpResponse HandleConfig(const ApiDeps& deps, const net::HttpRequest& req,
                               net::RequestContext& ctx);
net::HttpResponse HandleFlags(const ApiDeps& deps, const net::HttpRequest& req,
                              net::RequestContext& ctx);
net::HttpResponse HandleRuntimeInfo(const ApiDeps& deps,
                                    const net::HttpRequest& req,
                                    net::RequestContext& ctx);
net::HttpResponse HandleTsdbStatus(const ApiDeps& deps,
                                   const net::HttpRequest& req,
                                   net::RequestContext& ctx);
net::HttpResponse HandleFederate(const ApiDeps& deps,
                                 const net::HttpRequest& req,
                                 net::RequestContext& ctx);

}  // namespace pantau::metrics::api::internal

#endif  // PANTAU_METRICS_API_HANDLERS_H_
