// /federate: the latest sample (within the lookback delta) of every series
// matching match[], in the text exposition format, grouped by metric name,
// as Prometheus's web/federate.go writes it.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "metrics/api/handlers.h"
#include "metrics/api/json_writer.h"
#include "metrics/api/params.h"
#include "metrics/promql/parser.h"

namespace pantau::metrics::api::internal {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::RequestContext;

struct Latest {
  base::Labels labels;
  int64_t t;
  double v;
};

// Label value escaping of the text format: \\, \" and \n.
void AppendLabelValue(std::string* out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '"':
        out->append("\\\"");
        break;
      case '\n':
        out->append("\\n");
        break;
      default:
        out->push_back(c);
    }
  }
}

}  // namespace

HttpResponse HandleFederate(const ApiDeps& deps, const HttpRequest& req,
                            RequestContext& ctx) {
  std::vector<std::vector<Matcher>> sets;
  for (std::string_view s : req.params.GetAll("match[]")) {
    absl::StatusOr<std::vector<Matcher>> ms = promql::ParseMetricSelector(s);
    if (!ms.ok())
      return HttpResponse::Error(400, base::StdSv(ms.status().message()));
    sets.push_back(*std::move(ms));
  }
  int64_t maxt = NowMs(deps);
  int64_t mint = maxt - deps.engine->options().lookback_delta_ms;
  absl::StatusOr<std::unique_ptr<Querier>> q =
      deps.queryable->NewQuerier(mint, maxt);
  if (!q.ok())
    return HttpResponse::Error(500, base::StdSv(q.status().message()));
  SelectHints hints;
  hints.start = mint;
  hints.end = maxt;
  std::vector<Latest> vec;
  for (const std::vector<Matcher>& set : sets) {
    std::unique_ptr<SeriesSet> ss = (*q)->Select(true, &hints, set);
    while (ss->Next()) {
      if (ctx.Cancelled()) return HttpResponse::Error(499, "canceled");
      const Series& s = ss->At();
      std::unique_ptr<SampleIterator> it = s.Iterator();
      bool found = false;
      Sample last;
      if (it->Seek(mint)) {
        do {
          Sample x = it->At();
          if (x.t > maxt) break;
          last = x;
          found = true;
        } while (it->Next());
      }
      if (!it->status().ok()) {
        return HttpResponse::Error(500, base::StdSv(it->status().message()));
      }
      // The text format has no staleness markers: a series whose last
      // sample is one is left out.
      if (!found || IsStaleNaN(last.v)) continue;
      vec.push_back(Latest{s.labels(), last.t, last.v});
    }
    if (!ss->status().ok()) {
      return HttpResponse::Error(500, base::StdSv(ss->status().message()));
    }
  }
  // Several match[] may select the same series.
  if (sets.size() > 1) {
    std::sort(vec.begin(), vec.end(), [](const Latest& a, const Latest& b) {
      return a.labels < b.labels;
    });
    vec.erase(std::unique(vec.begin(), vec.end(),
                          [](const Latest& a, const Latest& b) {
                            return a.labels == b.labels;
                          }),
              vec.end());
  }
  std::stable_sort(vec.begin(), vec.end(),
                   [](const Latest& a, const Latest& b) {
                     return a.labels.Get(base::kMetricName) <
                            b.labels.Get(base::kMetricName);
                   });

  // External labels, with instance="" unless one is configured, are added
  // to series lacking them, as Prometheus does.
  std::vector<std::pair<std::string, std::string>> external;
  bool has_instance = false;
  if (deps.external_labels) {
    for (const base::LabelView& l : deps.external_labels()) {
      external.emplace_back(std::string(l.name), std::string(l.value));
      if (l.name == "instance") has_instance = true;
    }
  }
  if (!has_instance) external.emplace_back("instance", "");
  std::sort(external.begin(), external.end());

  std::string out;
  std::string_view last_name;
  bool have_family = false;
  for (const Latest& s : vec) {
    std::string_view name = s.labels.Get(base::kMetricName);
    if (name.empty()) continue;  // nameless series are skipped
    if (!have_family || name != last_name) {
      absl::StrAppend(&out, "# TYPE ", base::Sv(name), " untyped\n");
      last_name = name;
      have_family = true;
    }
    out.append(name);
    out.push_back('{');
    bool first = true;
    for (const base::LabelView& l : s.labels) {
      if (l.name == base::kMetricName || l.value.empty()) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append(l.name);
      out.append("=\"");
      AppendLabelValue(&out, l.value);
      out.push_back('"');
    }
    for (const auto& [n, v] : external) {
      if (s.labels.Has(n)) continue;
      if (!first) out.push_back(',');
      first = false;
      out.append(n);
      out.append("=\"");
      AppendLabelValue(&out, v);
      out.push_back('"');
    }
    out.append("} ");
    AppendGoFloatG(&out, s.v);
    absl::StrAppend(&out, " ", s.t, "\n");
  }
  HttpResponse r = HttpResponse::Text(200, std::move(out));
  r.headers.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  return r;
}

}  // namespace pantau::metrics::api::internal
