// RegisterPrometheusApi and the response helpers the handlers share.
#include "metrics/api/api.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "metrics/api/handlers.h"
#include "net/status_http.h"

namespace pantau::metrics::api {
namespace internal {

net::HttpResponse Error(const absl::Status& status) {
  return net::PrometheusErrorResponse(status);
}

absl::Status BadData(std::string_view message) {
  return absl::InvalidArgumentError(base::Sv(message));
}

absl::Status ExecError(const absl::Status& status, bool deadline_passed) {
  switch (status.code()) {
    case absl::StatusCode::kCancelled:
      if (deadline_passed) {
        return absl::DeadlineExceededError(
            "query timed out in query execution");
      }
      return status;
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
      return status;
    default:
      return absl::FailedPreconditionError(status.message());
  }
}

int64_t NowMs(const ApiDeps& deps) {
  base::Clock* clock = deps.clock != nullptr ? deps.clock : base::Clock::Real();
  return base::ToMillis(clock->Now());
}

}  // namespace internal

absl::Status RegisterPrometheusApi(net::Router& router, ApiDeps deps) {
  if (deps.queryable == nullptr || deps.engine == nullptr) {
    return absl::InvalidArgumentError(
        "RegisterPrometheusApi: queryable and engine are required");
  }
  // Shared by every route's handler; lives as long as the router holds them.
  auto shared = std::make_shared<const ApiDeps>(std::move(deps));
  using Fn = net::HttpResponse (*)(const ApiDeps&, const net::HttpRequest&,
                                   net::RequestContext&);
  auto wrap = [shared](Fn fn) -> net::Handler {
    return [shared, fn](const net::HttpRequest& req, net::RequestContext& ctx) {
      return fn(*shared, req, ctx);
    };
  };
  struct Route {
    bool post;  // GET only when false
    const char* pattern;
    Fn fn;
  };
  // Prometheus 2.42 accepts POST on the query, series, labels and
  // format_query endpoints; the rest are GET only.
  const Route routes[] = {
      {true, "/api/v1/query", internal::HandleQuery},
      {true, "/api/v1/query_range", internal::HandleQueryRange},
      {true, "/api/v1/query_exemplars", internal::HandleQueryExemplars},
      {true, "/api/v1/format_query", internal::HandleFormatQuery},
      {true, "/api/v1/series", internal::HandleSeries},
      {true, "/api/v1/labels", internal::HandleLabels},
      {false, "/api/v1/label/:name/values", internal::HandleLabelValues},
      {false, "/api/v1/metadata", internal::HandleMetadata},
      {false, "/api/v1/targets", internal::HandleTargets},
      {false, "/api/v1/status/buildinfo", internal::HandleBuildInfo},
      {false, "/api/v1/status/config", internal::HandleConfig},
      {false, "/api/v1/status/flags", internal::HandleFlags},
      {false, "/api/v1/status/runtimeinfo", internal::HandleRuntimeInfo},
      {false, "/api/v1/status/tsdb", internal::HandleTsdbStatus},
      {false, "/federate", internal::HandleFederate},
  };
  for (const Route& r : routes) {
    if (r.post) {
      PANTAU_RETURN_IF_ERROR(
          router.Handle({"GET", "POST"}, r.pattern, wrap(r.fn)));
    } else {
      PANTAU_RETURN_IF_ERROR(router.Handle("GET", r.pattern, wrap(r.fn)));
    }
  }
  return absl::OkStatus();
}

}  // namespace pantau::metrics::api
