#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"
#include "metrics/promql/evaluator.h"
#include "metrics/promql/parser.h"

namespace pantau::metrics::promql {
namespace {

// What RangeEval does with AggregateStep: each step's vector in series
// order, the step's output appended to series by first appearance.
Matrix StepWise(const AggregateExpr& a, const Matrix& in,
                const std::vector<double>& params, int64_t start,
                int64_t interval, int steps) {
  Matrix out;
  absl::flat_hash_map<base::Labels, size_t> index;
  for (int i = 0; i < steps; ++i) {
    int64_t ts = start + i * interval;
    Vector v;
    for (const Series& s : in) {
      for (const Point& p : s.points) {
        if (p.t == ts) v.push_back(VectorSample{s.labels, ts, p.v});
      }
    }
    Vector res;
    EXPECT_TRUE(AggregateStep(a, v, params[i], "", &res).ok());
    for (VectorSample& s : res) {
      auto [it, inserted] = index.try_emplace(s.labels, out.size());
      if (inserted) out.push_back(Series{s.labels, {}});
      out[it->second].points.push_back(Point{ts, s.v});
    }
  }
  return out;
}

TEST(TopkSeriesWise, SameSamplesAndOrderAsStepWise) {
  // Ties, NaN, gaps, groups, and k changing per step (0, 1, 2, many).
  Matrix in;
  uint64_t x = 99;
  auto next = [&] {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    return x >> 33;
  };
  for (int s = 0; s < 40; ++s) {
    Series series{base::Labels::Of({{"__name__", "m"},
                                    {"g", std::to_string(s % 3)},
                                    {"i", std::to_string(s)}}),
                  {}};
    for (int i = 0; i < 50; ++i) {
      if (next() % 5 == 0) continue;  // no sample at this step
      double v =
          next() % 7 == 0 ? std::nan("") : static_cast<double>(next() % 4);
      series.points.push_back(Point{i * 1000, v});
    }
    in.push_back(std::move(series));
  }
  std::vector<double> params;
  for (int i = 0; i < 50; ++i) params.push_back(i % 10 == 0 ? 0 : 1 + i % 6);
  params[7] = 1e6;  // more than there are series
  params[8] = 2.9;  // truncated to 2
  for (const char* q :
       {"topk(2, m)", "bottomk(2, m)", "topk by (g) (2, m)",
        "bottomk without (i) (3, m)", "topk by (nope) (1, m)"}) {
    auto e = ParseExpr(q);
    ASSERT_TRUE(e.ok()) << q;
    const auto& a = static_cast<const AggregateExpr&>(**e);
    Matrix got;
    ASSERT_TRUE(TopkSeriesWise(a, in, params, 0, 1000, 50, &got)) << q;
    Matrix want = StepWise(a, in, params, 0, 1000, 50);
    ASSERT_EQ(got.size(), want.size()) << q;
    for (size_t s = 0; s < got.size(); ++s) {
      EXPECT_EQ(got[s].labels, want[s].labels) << q;
      ASSERT_EQ(got[s].points.size(), want[s].points.size()) << q;
      for (size_t j = 0; j < got[s].points.size(); ++j) {
        EXPECT_EQ(got[s].points[j].t, want[s].points[j].t) << q;
        const double g = got[s].points[j].v, w = want[s].points[j].v;
        EXPECT_TRUE(g == w || (std::isnan(g) && std::isnan(w))) << q;
      }
    }
  }
}

TEST(TopkSeriesWise, LeavesAnOverflowingKToTheStepWisePath) {
  auto e = ParseExpr("topk(2, m)");
  ASSERT_TRUE(e.ok());
  const auto& a = static_cast<const AggregateExpr&>(**e);
  Matrix in = {Series{base::Labels::Of({{"__name__", "m"}}), {{0, 1}}}};
  Matrix out;
  EXPECT_FALSE(TopkSeriesWise(a, in, {1e19}, 0, 1000, 1, &out));
  EXPECT_FALSE(TopkSeriesWise(a, in, {std::nan("")}, 0, 1000, 1, &out));
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace pantau::metrics::promql
