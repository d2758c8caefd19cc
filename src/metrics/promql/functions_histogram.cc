// histogram_quantile over classic (le-bucketed) histograms. The native
// histogram functions (histogram_count, _sum, _fraction) exist for
// parity; float samples give them nothing, as in Prometheus 2.42.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/container/flat_hash_map.h"
#include "metrics/promql/evaluator.h"
#include "metrics/promql/functions.h"

namespace pantau::metrics::promql {
namespace {

struct Bucket {
  double upper;
  double count;
};

double BucketQuantile(double q, std::vector<Bucket>& b) {
  if (std::isnan(q)) return NAN;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::sort(b.begin(), b.end(),
            [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  if (!std::isinf(b.back().upper) || b.back().upper < 0) return NAN;
  // Coalesce buckets with the same bound.
  std::vector<Bucket> c;
  for (const Bucket& x : b) {
    if (!c.empty() && c.back().upper == x.upper) {
      c.back().count += x.count;
    } else {
      c.push_back(x);
    }
  }
  // Force monotonic counts (precision loss can make them dip).
  double max = -INFINITY;
  for (Bucket& x : c) {
    if (x.count > max) {
      max = x.count;
    } else if (x.count < max) {
      x.count = max;
    }
  }
  if (c.size() < 2) return NAN;
  double observations = c.back().count;
  if (observations == 0) return NAN;
  double rank = q * observations;
  size_t i = 0;
  while (i < c.size() - 1 && !(c[i].count >= rank)) ++i;
  if (i == c.size() - 1) return c[c.size() - 2].upper;
  if (i == 0 && c[0].upper <= 0) return c[0].upper;
  double start = 0, end = c[i].upper, count = c[i].count;
  if (i > 0) {
    start = c[i - 1].upper;
    count -= c[i - 1].count;
    rank -= c[i - 1].count;
  }
  return start + (end - start) * (rank / count);
}

bool ParseFloat(std::string_view s, double* out) {
  if (s.empty()) return false;
  std::string str(s);
  char* end = nullptr;
  *out = std::strtod(str.c_str(), &end);
  return end == str.c_str() + str.size();
}

absl::Status HistogramQuantile(const CallContext& c, Vector* out) {
  double q = c.args[0].scalar;
  struct Group {
    base::Labels labels;
    std::vector<Bucket> buckets;
  };
  absl::flat_hash_map<base::Labels, size_t> index;
  std::vector<Group> groups;
  for (const VectorSample& s : *c.args[1].vector) {
    double upper;
    if (!ParseFloat(s.labels.Get("le"), &upper)) continue;
    // Grouped with the metric name, which the output then drops.
    base::Labels key = base::LabelsBuilder(s.labels).Del("le").Build();
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      groups.push_back(
          Group{base::LabelsBuilder(key).Del(base::kMetricName).Build(), {}});
    }
    groups[it->second].buckets.push_back(Bucket{upper, s.v});
  }
  for (Group& g : groups) {
    out->push_back(VectorSample{g.labels, c.ts, BucketQuantile(q, g.buckets)});
  }
  return absl::OkStatus();
}

absl::Status NativeOnly(const CallContext&, Vector*) {
  return absl::OkStatus();
}

}  // namespace

bool HistogramQuantileSeriesWise(const std::vector<double>& q, const Matrix& in,
                                 int64_t start, int64_t interval, int steps,
                                 Matrix* out) {
  // A series' bucket group and bound never change, so group once and then
  // only gather counts per step.
  absl::flat_hash_map<base::Labels, size_t> index;
  std::vector<base::Labels> group_labels;
  std::vector<int> series_group(in.size(), -1);
  std::vector<double> upper(in.size(), 0);
  for (size_t k = 0; k < in.size(); ++k) {
    if (!ParseFloat(in[k].labels.Get("le"), &upper[k])) continue;
    base::Labels key = base::LabelsBuilder(in[k].labels).Del("le").Build();
    auto [it, inserted] = index.try_emplace(key, group_labels.size());
    if (inserted) {
      group_labels.push_back(
          base::LabelsBuilder(key).Del(base::kMetricName).Build());
    }
    series_group[k] = static_cast<int>(it->second);
  }
  // Groups that differ only by metric name collide once it is dropped;
  // the step-wise path reports that where it happens.
  if (!AllDistinct(group_labels)) return false;
  std::vector<std::vector<Bucket>> buckets(group_labels.size());
  std::vector<int> last_step(group_labels.size(), -1);
  std::vector<size_t> touched, cursor(in.size(), 0);
  Matrix groups(group_labels.size());
  for (size_t g = 0; g < groups.size(); ++g) {
    groups[g].labels = group_labels[g];
  }
  std::vector<size_t> order;
  std::vector<bool> seen(groups.size(), false);
  for (int i = 0; i < steps; ++i) {
    int64_t ts = start + static_cast<int64_t>(i) * interval;
    touched.clear();
    for (size_t k = 0; k < in.size(); ++k) {
      const auto& pts = in[k].points;
      size_t& c = cursor[k];
      while (c < pts.size() && pts[c].t < ts) ++c;
      if (series_group[k] < 0 || c >= pts.size() || pts[c].t != ts) continue;
      size_t g = static_cast<size_t>(series_group[k]);
      if (last_step[g] != i) {
        last_step[g] = i;
        buckets[g].clear();
        touched.push_back(g);
      }
      buckets[g].push_back(Bucket{upper[k], pts[c].v});
    }
    for (size_t g : touched) {
      groups[g].points.push_back(Point{ts, BucketQuantile(q[i], buckets[g])});
      if (!seen[g]) {
        seen[g] = true;
        order.push_back(g);
      }
    }
  }
  out->clear();
  for (size_t g : order) out->push_back(std::move(groups[g]));
  return true;
}

void RegisterHistogramFunctions(FunctionTable* t) {
  using VT = ValueType;
  FunctionDef hq;
  hq.name = "histogram_quantile";
  hq.arg_types = {VT::kScalar, VT::kVector};
  hq.vector_fn = HistogramQuantile;
  t->push_back(hq);
  for (const char* name : {"histogram_count", "histogram_sum"}) {
    FunctionDef d;
    d.name = name;
    d.arg_types = {VT::kVector};
    d.vector_fn = NativeOnly;
    t->push_back(d);
  }
  FunctionDef frac;
  frac.name = "histogram_fraction";
  frac.arg_types = {VT::kScalar, VT::kScalar, VT::kVector};
  frac.vector_fn = NativeOnly;
  t->push_back(frac);
}

}  // namespace pantau::metrics::promql
