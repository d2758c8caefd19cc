// ComputeTsdbStatus: /api/v1/status/tsdb's statistics from any Queryable,
// for stores that keep none of their own.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "metrics/api/providers.h"

namespace pantau::metrics::api {
namespace {

std::vector<TsdbStat> Top(const absl::flat_hash_map<std::string, uint64_t>& m,
                          size_t limit) {
  std::vector<TsdbStat> v;
  v.reserve(m.size());
  for (const auto& [k, n] : m) v.push_back(TsdbStat{k, n});
  auto by_value = [](const TsdbStat& a, const TsdbStat& b) {
    return a.value != b.value ? a.value > b.value : a.name < b.name;
  };
  size_t keep = std::min(limit, v.size());
  std::partial_sort(v.begin(), v.begin() + keep, v.end(), by_value);
  v.resize(keep);
  return v;
}

}  // namespace

absl::StatusOr<TsdbStatus> ComputeTsdbStatus(Queryable& queryable,
                                             int64_t mint_ms, int64_t maxt_ms,
                                             size_t limit) {
  absl::StatusOr<std::unique_ptr<Querier>> q =
      queryable.NewQuerier(mint_ms, maxt_ms);
  if (!q.ok()) return q.status();
  SelectHints hints;
  hints.start = mint_ms;
  hints.end = maxt_ms;
  hints.func = "series";
  std::vector<Matcher> all = {Matcher::Must(
      MatchType::kRegexMatch, std::string(base::kMetricName), ".+")};
  std::unique_ptr<SeriesSet> ss = (*q)->Select(false, &hints, all);
  TsdbStatus st;
  st.min_time = mint_ms;
  st.max_time = maxt_ms;
  absl::flat_hash_map<std::string, uint64_t> by_metric;
  absl::flat_hash_map<std::string, uint64_t> by_pair;
  absl::flat_hash_map<std::string, uint64_t> memory_by_name;
  while (ss->Next()) {
    ++st.num_series;
    for (const base::LabelView& l : ss->At().labels()) {
      if (l.name == base::kMetricName) ++by_metric[std::string(l.value)];
      ++by_pair[absl::StrCat(base::Sv(l.name), "=", base::Sv(l.value))];
      memory_by_name[std::string(l.name)] += l.value.size();
    }
  }
  if (!ss->status().ok()) return ss->status();
  absl::flat_hash_map<std::string, uint64_t> values_by_name;
  for (const auto& [pair, n] : by_pair) {
    ++values_by_name[pair.substr(0, pair.find('='))];
  }
  st.num_label_pairs = static_cast<int64_t>(by_pair.size());
  st.series_count_by_metric_name = Top(by_metric, limit);
  st.label_value_count_by_label_name = Top(values_by_name, limit);
  st.memory_in_bytes_by_label_name = Top(memory_by_name, limit);
  st.series_count_by_label_value_pair = Top(by_pair, limit);
  return st;
}

}  // namespace pantau::metrics::api
