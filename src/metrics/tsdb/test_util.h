// Helpers shared by the TSDB's tests.
#ifndef PANTAU_METRICS_TSDB_TEST_UTIL_H_
#define PANTAU_METRICS_TSDB_TEST_UTIL_H_

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "metrics/storage/storage.h"

namespace pantau::metrics::tsdb::testing {

using SeriesMap = std::map<std::string, std::vector<Sample>>;

// Every series and sample matching `matchers` in [mint, maxt], keyed by
// Labels::ToString().
inline SeriesMap Query(Queryable& q, const std::vector<Matcher>& matchers,
                       int64_t mint = INT64_MIN, int64_t maxt = INT64_MAX) {
  SeriesMap out;
  auto querier = q.NewQuerier(mint, maxt);
  EXPECT_TRUE(querier.ok()) << querier.status();
  if (!querier.ok()) return out;
  auto set = (*querier)->Select(true, nullptr, matchers);
  std::string prev;
  while (set->Next()) {
    const Series& s = set->At();
    std::string key = s.labels().ToString();
    EXPECT_LT(prev, key) << "series not sorted or repeated";
    prev = key;
    auto it = s.Iterator();
    std::vector<Sample>& samples = out[key];
    while (it->Next()) samples.push_back(it->At());
    EXPECT_TRUE(it->status().ok()) << it->status();
  }
  EXPECT_TRUE(set->status().ok()) << set->status();
  return out;
}

inline Matcher Eq(std::string n, std::string v) {
  return Matcher::Must(MatchType::kEqual, std::move(n), std::move(v));
}

}  // namespace pantau::metrics::tsdb::testing

#endif  // PANTAU_METRICS_TSDB_TEST_UTIL_H_
