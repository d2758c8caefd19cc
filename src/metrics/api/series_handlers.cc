// /api/v1/series, /api/v1/labels and /api/v1/label/:name/values.
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "metrics/api/handlers.h"
#include "metrics/api/params.h"

namespace pantau::metrics::api::internal {
namespace {

using net::HttpRequest;
using net::HttpResponse;
using net::RequestContext;

// Checked between series so a client that went away stops the scan.
constexpr int kCancelCheckEvery = 1024;

bool ValidLabelName(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// Go's %q for the label name in "invalid label name" (printable ASCII kept,
// quotes and backslashes escaped, other bytes as \xNN).
std::string GoQuote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else if (c >= 0x80) {
      out.push_back(static_cast<char>(c));  // UTF-8 passes through
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('"');
  return out;
}

struct TimeRange {
  int64_t start;
  int64_t end;
};

absl::StatusOr<TimeRange> ParseRange(const HttpRequest& req) {
  absl::StatusOr<int64_t> start = ParseTimeParam(req, "start", kMinTimeMs);
  if (!start.ok()) return InvalidParam(start.status(), "start");
  absl::StatusOr<int64_t> end = ParseTimeParam(req, "end", kMaxTimeMs);
  if (!end.ok()) return InvalidParam(end.status(), "end");
  return TimeRange{*start, *end};
}

// Cuts `v` to `limit` (0: no limit) and adds Prometheus's warning.
template <typename T>
void ApplyLimit(std::vector<T>& v, int64_t limit,
                std::vector<std::string>& warnings) {
  if (limit > 0 && v.size() > static_cast<size_t>(limit)) {
    v.resize(static_cast<size_t>(limit));
    warnings.push_back("results truncated due to limit");
  }
}

HttpResponse StringList(std::vector<std::string>& values,
                        const std::vector<std::string>& warnings) {
  return Success(
      [&](JsonWriter& w) {
        w.BeginArray();
        for (const std::string& s : values) w.String(s);
        w.EndArray();
      },
      warnings);
}

// Sorted union of the values `get` returns for each matcher set (or for no
// matchers when there are none).
template <typename Get>
absl::StatusOr<std::vector<std::string>> Union(
    const std::vector<std::vector<Matcher>>& sets, Get&& get) {
  if (sets.empty()) return get(std::vector<Matcher>{});
  if (sets.size() == 1) return get(sets[0]);
  absl::flat_hash_set<std::string> seen;
  for (const std::vector<Matcher>& set : sets) {
    absl::StatusOr<std::vector<std::string>> v = get(set);
    if (!v.ok()) return v.status();
    for (std::string& s : *v) seen.insert(std::move(s));
  }
  std::vector<std::string> out(seen.begin(), seen.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

HttpResponse HandleSeries(const ApiDeps& deps, const HttpRequest& req,
                          RequestContext& ctx) {
  std::vector<std::string_view> match = req.params.GetAll("match[]");
  if (match.empty()) return Error(BadData("no match[] parameter provided"));
  absl::StatusOr<TimeRange> range = ParseRange(req);
  if (!range.ok()) return Error(range.status());
  absl::StatusOr<std::vector<std::vector<Matcher>>> sets =
      ParseMatchersParam(match);
  if (!sets.ok()) return Error(InvalidParam(sets.status(), "match[]"));
  absl::StatusOr<int64_t> limit =
      ParseLimitParam(req, "limit", "limit must be a number");
  if (!limit.ok()) return Error(InvalidParam(limit.status(), "limit"));

  absl::StatusOr<std::unique_ptr<Querier>> q =
      deps.queryable->NewQuerier(range->start, range->end);
  if (!q.ok()) return Error(ExecError(q.status(), false));
  SelectHints hints;
  hints.start = range->start;
  hints.end = range->end;
  hints.func = "series";  // no samples needed
  std::vector<base::Labels> series;
  std::vector<std::string> warnings;
  int n = 0;
  for (const std::vector<Matcher>& set : *sets) {
    std::unique_ptr<SeriesSet> ss = (*q)->Select(true, &hints, set);
    while (ss->Next()) {
      if (++n % kCancelCheckEvery == 0 && ctx.Cancelled()) {
        return Error(absl::CancelledError("query was canceled"));
      }
      series.push_back(ss->At().labels());
    }
    if (!ss->status().ok()) return Error(ExecError(ss->status(), false));
    for (std::string& w : ss->Warnings()) warnings.push_back(std::move(w));
  }
  if (sets->size() > 1) {
    std::sort(series.begin(), series.end());
    series.erase(std::unique(series.begin(), series.end()), series.end());
  }
  ApplyLimit(series, *limit, warnings);
  return Success(
      [&](JsonWriter& w) {
        w.BeginArray();
        for (const base::Labels& l : series) w.LabelsObject(l);
        w.EndArray();
      },
      warnings);
}

HttpResponse HandleLabels(const ApiDeps& deps, const HttpRequest& req,
                          RequestContext& ctx) {
  absl::StatusOr<TimeRange> range = ParseRange(req);
  if (!range.ok()) return Error(range.status());
  absl::StatusOr<std::vector<std::vector<Matcher>>> sets =
      ParseMatchersParam(req.params.GetAll("match[]"));
  if (!sets.ok()) return Error(sets.status());
  absl::StatusOr<int64_t> limit =
      ParseLimitParam(req, "limit", "limit must be a number");
  if (!limit.ok()) return Error(InvalidParam(limit.status(), "limit"));
  absl::StatusOr<std::unique_ptr<Querier>> q =
      deps.queryable->NewQuerier(range->start, range->end);
  if (!q.ok()) return Error(ExecError(q.status(), false));
  absl::StatusOr<std::vector<std::string>> names = Union(
      *sets,
      [&](const std::vector<Matcher>& ms) { return (*q)->LabelNames(ms); });
  if (!names.ok()) return Error(ExecError(names.status(), false));
  if (ctx.Cancelled()) return Error(absl::CancelledError("query was canceled"));
  std::vector<std::string> warnings;
  ApplyLimit(*names, *limit, warnings);
  return StringList(*names, warnings);
}

HttpResponse HandleLabelValues(const ApiDeps& deps, const HttpRequest& req,
                               RequestContext& ctx) {
  std::string_view name = req.PathParam("name");
  if (!ValidLabelName(name)) {
    return Error(BadData(absl::StrCat("invalid label name: ", GoQuote(name))));
  }
  absl::StatusOr<TimeRange> range = ParseRange(req);
  if (!range.ok()) return Error(range.status());
  absl::StatusOr<std::vector<std::vector<Matcher>>> sets =
      ParseMatchersParam(req.params.GetAll("match[]"));
  if (!sets.ok()) return Error(sets.status());
  absl::StatusOr<int64_t> limit =
      ParseLimitParam(req, "limit", "limit must be a number");
  if (!limit.ok()) return Error(InvalidParam(limit.status(), "limit"));
  absl::StatusOr<std::unique_ptr<Querier>> q =
      deps.queryable->NewQuerier(range->start, range->end);
  if (!q.ok()) return Error(ExecError(q.status(), false));
  absl::StatusOr<std::vector<std::string>> values =
      Union(*sets, [&](const std::vector<Matcher>& ms) {
        return (*q)->LabelValues(name, ms);
      });
  if (!values.ok()) return Error(ExecError(values.status(), false));
  if (ctx.Cancelled()) return Error(absl::CancelledError("query was canceled"));
  std::vector<std::string> warnings;
  ApplyLimit(*values, *limit, warnings);
  return StringList(*values, warnings);
}

}  // namespace pantau::metrics::api::internal
