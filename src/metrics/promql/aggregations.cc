// Aggregation operators at one step: sum, avg, count, min, max, group,
// stddev, stdvar, topk, bottomk, count_values, quantile; by/without.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "metrics/promql/evaluator.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {
namespace {

struct Group {
  base::Labels labels;
  double value = 0;
  double mean = 0;
  double count = 0;
  std::vector<const VectorSample*> heap;  // topk/bottomk
  std::vector<double> values;             // quantile
};

bool ValidLabelName(std::string_view s) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
          (i > 0 && c >= '0' && c <= '9'))) {
      return false;
    }
  }
  return true;
}

// Go's strconv.FormatFloat(v, 'f', -1, 64).
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  for (int prec = 0; prec < 400; ++prec) {
    std::string s = absl::StrFormat("%.*f", prec, v);
    if (std::strtod(s.c_str(), nullptr) == v) return s;
  }
  return absl::StrFormat("%f", v);
}

// topk/bottomk keep a bounded heap exactly as Prometheus does (Go's
// container/heap), so that ties pick the same series.
struct KHeap {
  bool top;  // topk: min-heap on value; bottomk: max-heap. NaN on top.
  bool Less(const VectorSample* x, const VectorSample* y) const {
    if (std::isnan(x->v)) return true;
    return top ? x->v < y->v : x->v > y->v;
  }
  void Up(std::vector<const VectorSample*>& h, size_t j) const {
    while (j > 0) {
      size_t i = (j - 1) / 2;
      if (!Less(h[j], h[i])) break;
      std::swap(h[i], h[j]);
      j = i;
    }
  }
  void Down(std::vector<const VectorSample*>& h, size_t n) const {
    size_t i = 0;
    while (true) {
      size_t j1 = 2 * i + 1;
      if (j1 >= n) break;
      size_t j = j1;
      if (j1 + 1 < n && Less(h[j1 + 1], h[j1])) j = j1 + 1;
      if (!Less(h[j], h[i])) break;
      std::swap(h[i], h[j]);
      i = j;
    }
  }
  void Add(std::vector<const VectorSample*>& h, const VectorSample* s,
           int64_t k) const {
    const bool full = static_cast<int64_t>(h.size()) >= k;
    if (full) {
      const double top_v = h[0]->v;
      bool replace = top ? top_v < s->v : top_v > s->v;
      if (!replace && !std::isnan(top_v)) return;
      if (k == 1) {
        h[0] = s;
        return;
      }
      // heap.Pop: move the top to the end, restore, drop it.
      std::swap(h[0], h.back());
      Down(h, h.size() - 1);
      h.pop_back();
    }
    h.push_back(s);  // heap.Push
    Up(h, h.size() - 1);
  }
};

}  // namespace

double Quantile(double q, std::vector<double>* values) {
  if (values->empty() || std::isnan(q)) return NAN;
  if (q < 0) return -INFINITY;
  if (q > 1) return INFINITY;
  std::sort(values->begin(), values->end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values->size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return (*values)[static_cast<size_t>(lower)] * (1 - weight) +
         (*values)[static_cast<size_t>(upper)] * weight;
}

absl::Status AggregateStep(const AggregateExpr& a, const Vector& in,
                           double param, std::string_view str_param,
                           Vector* out) {
  if (a.op == AggOp::kCountValues && !ValidLabelName(str_param)) {
    return ExecutionError(Cat("invalid label name \"", str_param, "\""));
  }
  int64_t k = 0;
  if (a.op == AggOp::kTopk || a.op == AggOp::kBottomk) {
    if (!(param <= 9.2233720368547758e18 && param >= -9.2233720368547758e18)) {
      return ExecutionError(Cat("Scalar value ", param, " overflows int64"));
    }
    k = static_cast<int64_t>(param);
    if (k < 1) return absl::OkStatus();
  }
  std::vector<std::string> grouping = a.grouping;
  if (a.op == AggOp::kCountValues && !a.without) {
    grouping.emplace_back(str_param);
  }
  std::sort(grouping.begin(), grouping.end());
  absl::flat_hash_map<uint64_t, size_t> index;
  std::vector<Group> groups;
  base::LabelsBuilder b;
  for (const VectorSample& s : in) {
    // Only count_values changes the labels; the rest read them in place.
    base::Labels with_value;
    const base::Labels* metric = &s.labels;
    if (a.op == AggOp::kCountValues) {
      with_value = base::LabelsBuilder(s.labels)
                       .Set(str_param, FormatValue(s.v))
                       .Build();
      metric = &with_value;
    }
    uint64_t key = 0;  // `by ()` and topk without grouping: one group
    if (a.without) {
      key = metric->HashWithout(grouping);
    } else if (!grouping.empty()) {
      key = metric->HashFor(grouping);
    }
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      Group g;
      // topk/bottomk output their samples as they are: no group labels.
      if (a.op != AggOp::kTopk && a.op != AggOp::kBottomk) {
        b.Reset(*metric);
        if (a.without) {
          for (const auto& l : grouping) b.Del(l);
          b.Del(base::kMetricName);
        } else {
          b.Keep(grouping);
        }
        g.labels = b.Build();
      }
      g.value = s.v;
      g.mean = s.v;
      g.count = 1;
      if (a.op == AggOp::kStddev || a.op == AggOp::kStdvar) g.value = 0;
      if (a.op == AggOp::kGroup) g.value = 1;
      if (a.op == AggOp::kTopk || a.op == AggOp::kBottomk) {
        g.heap.reserve(std::min<int64_t>(k, 64));
        g.heap.push_back(&s);
      }
      if (a.op == AggOp::kQuantile) g.values.push_back(s.v);
      groups.push_back(std::move(g));
      continue;
    }
    Group& g = groups[it->second];
    switch (a.op) {
      case AggOp::kSum:
        g.value += s.v;
        break;
      case AggOp::kAvg:
        g.count++;
        if (std::isinf(g.mean)) {
          if (std::isinf(s.v) && (g.mean > 0) == (s.v > 0)) break;
          if (!std::isinf(s.v) && !std::isnan(s.v)) break;
        }
        g.mean += s.v / g.count - g.mean / g.count;
        break;
      case AggOp::kGroup:
        break;
      case AggOp::kCount:
      case AggOp::kCountValues:
        g.count++;
        break;
      case AggOp::kMax:
        if (g.value < s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggOp::kMin:
        if (g.value > s.v || std::isnan(g.value)) g.value = s.v;
        break;
      case AggOp::kStddev:
      case AggOp::kStdvar: {
        g.count++;
        double delta = s.v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (s.v - g.mean);
        break;
      }
      case AggOp::kTopk:
      case AggOp::kBottomk:
        KHeap{a.op == AggOp::kTopk}.Add(g.heap, &s, k);
        break;
      case AggOp::kQuantile:
        g.values.push_back(s.v);
        break;
    }
  }
  for (Group& g : groups) {
    double v = g.value;
    switch (a.op) {
      case AggOp::kAvg:
        v = g.mean;
        break;
      case AggOp::kCount:
      case AggOp::kCountValues:
        v = g.count;
        break;
      case AggOp::kStdvar:
        v = g.value / g.count;
        break;
      case AggOp::kStddev:
        v = std::sqrt(g.value / g.count);
        break;
      case AggOp::kQuantile:
        v = Quantile(param, &g.values);
        break;
      case AggOp::kTopk:
      case AggOp::kBottomk: {
        // The heap's order reversed, as Go's sort.Reverse; stable like its
        // insertion sort for small k.
        KHeap h{a.op == AggOp::kTopk};
        std::stable_sort(g.heap.begin(), g.heap.end(),
                         [&h](const VectorSample* x, const VectorSample* y) {
                           return h.Less(y, x);
                         });
        for (const VectorSample* s : g.heap) out->push_back(*s);
        continue;
      }
      default:
        break;
    }
    out->push_back(VectorSample{std::move(g.labels), 0, v});
  }
  return absl::OkStatus();
}

}  // namespace pantau::metrics::promql

namespace pantau::metrics::promql {

// topk/bottomk step by step over the input series, comparing values only:
// the step-wise path copied every sample's labels into a vector at every
// step (the bulk of `topk(5, rate(x[5m]))` over 1 h). Emits the same
// samples in the same order (steps, then groups by first appearance, then
// the sorted heap), series in order of first appearance, as RangeEval over
// AggregateStep does. False, having done nothing, when some step's k does
// not fit an int64 (the step-wise path reports that).
bool TopkSeriesWise(const AggregateExpr& a, const Matrix& in,
                    const std::vector<double>& params, int64_t start,
                    int64_t interval, int steps, Matrix* out) {
  if (a.op != AggOp::kTopk && a.op != AggOp::kBottomk) return false;
  if (params.size() < static_cast<size_t>(steps)) return false;
  for (int i = 0; i < steps; ++i) {
    const double p = params[i];
    if (!(p <= 9.2233720368547758e18 && p >= -9.2233720368547758e18)) {
      return false;
    }
  }
  std::vector<std::string> grouping = a.grouping;
  std::sort(grouping.begin(), grouping.end());
  // Group of each series, numbered in order of first appearance.
  absl::flat_hash_map<uint64_t, size_t> index;
  std::vector<size_t> series_group(in.size());
  for (size_t k = 0; k < in.size(); ++k) {
    const base::Labels& l = in[k].labels;
    uint64_t key = 0;
    if (a.without) {
      key = l.HashWithout(grouping);
    } else if (!grouping.empty()) {
      key = l.HashFor(grouping);
    }
    series_group[k] = index.try_emplace(key, index.size()).first->second;
  }
  const KHeap h{a.op == AggOp::kTopk};
  std::vector<std::vector<const VectorSample*>> heaps(index.size());
  std::vector<int> group_step(index.size(), -1);
  std::vector<size_t> step_groups;
  // One step's samples, labels left empty; the position gives the series.
  std::vector<VectorSample> samples(in.size());
  std::vector<size_t> sample_series(in.size());
  std::vector<size_t> cursor(in.size(), 0);
  std::vector<size_t> out_index(in.size(), SIZE_MAX);
  for (int i = 0; i < steps; ++i) {
    const int64_t ts = start + static_cast<int64_t>(i) * interval;
    const int64_t k = static_cast<int64_t>(params[i]);
    size_t n = 0;
    step_groups.clear();
    for (size_t s = 0; s < in.size(); ++s) {
      const auto& pts = in[s].points;
      size_t& c = cursor[s];
      while (c < pts.size() && pts[c].t < ts) ++c;
      if (c >= pts.size() || pts[c].t != ts) continue;
      if (k < 1) continue;
      VectorSample& smp = samples[n];
      smp.t = ts;
      smp.v = pts[c].v;
      sample_series[n] = s;
      const size_t g = series_group[s];
      if (group_step[g] != i) {
        group_step[g] = i;
        step_groups.push_back(g);
        heaps[g].clear();
        heaps[g].push_back(&smp);
      } else {
        h.Add(heaps[g], &smp, k);
      }
      ++n;
    }
    for (size_t g : step_groups) {
      std::vector<const VectorSample*>& heap = heaps[g];
      std::stable_sort(heap.begin(), heap.end(),
                       [&h](const VectorSample* x, const VectorSample* y) {
                         return h.Less(y, x);
                       });
      for (const VectorSample* smp : heap) {
        const size_t s = sample_series[smp - samples.data()];
        if (out_index[s] == SIZE_MAX) {
          out_index[s] = out->size();
          out->push_back(Series{in[s].labels, {}});
        }
        (*out)[out_index[s]].points.push_back(Point{ts, smp->v});
      }
    }
  }
  return true;
}

// The series-wise path: a series' group is fixed, so grouping keys and
// output labels are computed once per series rather than once per sample,
// and steps only touch numbers. Same per-step order as AggregateStep, so
// results are bit-identical.
bool AggregateSeriesWise(const AggregateExpr& a, const Matrix& in,
                         int64_t start, int64_t interval, int steps,
                         Matrix* out) {
  switch (a.op) {
    case AggOp::kSum:
    case AggOp::kAvg:
    case AggOp::kCount:
    case AggOp::kMin:
    case AggOp::kMax:
    case AggOp::kGroup:
    case AggOp::kStddev:
    case AggOp::kStdvar:
      break;
    default:
      return false;
  }
  std::vector<std::string> grouping = a.grouping;
  std::sort(grouping.begin(), grouping.end());
  absl::flat_hash_map<uint64_t, size_t> index;
  std::vector<size_t> series_group(in.size());
  Matrix groups;
  base::LabelsBuilder b;
  for (size_t k = 0; k < in.size(); ++k) {
    const base::Labels& l = in[k].labels;
    uint64_t key = a.without ? l.HashWithout(grouping) : l.HashFor(grouping);
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      b.Reset(l);
      if (a.without) {
        for (const auto& g : grouping) b.Del(g);
        b.Del(base::kMetricName);
      } else {
        b.Keep(grouping);
      }
      groups.push_back(Series{b.Build(), {}});
    }
    series_group[k] = it->second;
  }
  struct State {
    double value, mean, count;
    int last_step = -1;
  };
  std::vector<State> state(groups.size());
  std::vector<size_t> cursor(in.size(), 0);
  std::vector<size_t> touched;
  for (int i = 0; i < steps; ++i) {
    int64_t ts = start + static_cast<int64_t>(i) * interval;
    touched.clear();
    for (size_t k = 0; k < in.size(); ++k) {
      const auto& pts = in[k].points;
      size_t& c = cursor[k];
      while (c < pts.size() && pts[c].t < ts) ++c;
      if (c >= pts.size() || pts[c].t != ts) continue;
      double v = pts[c].v;
      State& g = state[series_group[k]];
      if (g.last_step != i) {
        g.last_step = i;
        touched.push_back(series_group[k]);
        g.value = v;
        g.mean = v;
        g.count = 1;
        if (a.op == AggOp::kStddev || a.op == AggOp::kStdvar) g.value = 0;
        if (a.op == AggOp::kGroup) g.value = 1;
        continue;
      }
      switch (a.op) {
        case AggOp::kSum:
          g.value += v;
          break;
        case AggOp::kAvg:
          g.count++;
          if (std::isinf(g.mean)) {
            if (std::isinf(v) && (g.mean > 0) == (v > 0)) break;
            if (!std::isinf(v) && !std::isnan(v)) break;
          }
          g.mean += v / g.count - g.mean / g.count;
          break;
        case AggOp::kCount:
          g.count++;
          break;
        case AggOp::kMax:
          if (g.value < v || std::isnan(g.value)) g.value = v;
          break;
        case AggOp::kMin:
          if (g.value > v || std::isnan(g.value)) g.value = v;
          break;
        case AggOp::kStddev:
        case AggOp::kStdvar: {
          g.count++;
          double delta = v - g.mean;
          g.mean += delta / g.count;
          g.value += delta * (v - g.mean);
          break;
        }
        default:
          break;
      }
    }
    for (size_t gi : touched) {
      const State& g = state[gi];
      double v = g.value;
      switch (a.op) {
        case AggOp::kAvg:
          v = g.mean;
          break;
        case AggOp::kCount:
          v = g.count;
          break;
        case AggOp::kStdvar:
          v = g.value / g.count;
          break;
        case AggOp::kStddev:
          v = std::sqrt(g.value / g.count);
          break;
        default:
          break;
      }
      groups[gi].points.push_back(Point{ts, v});
    }
  }
  // Groups in order of first appearance, as the step-wise path emits them.
  std::vector<size_t> order;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    if (!groups[gi].points.empty()) order.push_back(gi);
  }
  out->clear();
  out->reserve(order.size());
  for (size_t gi : order) out->push_back(std::move(groups[gi]));
  return true;
}

}  // namespace pantau::metrics::promql
