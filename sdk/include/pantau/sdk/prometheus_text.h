// The Prometheus text exposition format 0.0.4: the body of a `/metrics`
// response that any HTTP server can return.
//
//   std::string body = sdk::PrometheusText(sdk::Registry::Default());
//   // respond 200 with Content-Type: sdk::kPrometheusTextContentType
//
// Counters, histograms and gauges map to their Prometheus types
// (up-down counters become gauges). Histograms are written as cumulative
// `_bucket{le="..."}` series ending with le="+Inf", then `_sum` and
// `_count`. Exemplars are not part of format 0.0.4 and are left out.
//
// Thread safety: pure functions over snapshots; PrometheusText collects
// from the registry, which is itself safe to use concurrently.
#ifndef PANTAU_SDK_PROMETHEUS_TEXT_H_
#define PANTAU_SDK_PROMETHEUS_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

#include "pantau/sdk/metrics.h"

namespace pantau::sdk {

inline constexpr std::string_view kPrometheusTextContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends `families` to `out` in text format 0.0.4.
void WritePrometheusText(const std::vector<FamilySnapshot>& families,
                         std::string* out);

// Collects `registry` and returns the text.
std::string PrometheusText(const Registry& registry);

// A sample value or bucket bound as Prometheus writes it: the shortest text
// that reads back to the same double, "+Inf", "-Inf" or "NaN".
std::string FormatPrometheusValue(double v);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_PROMETHEUS_TEXT_H_
