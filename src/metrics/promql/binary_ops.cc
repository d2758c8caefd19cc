// Binary operators at one step: arithmetic and comparisons with vector
// matching (on/ignoring, group_left/group_right, bool) and the set
// operators and/or/unless.
#include <algorithm>
#include <cmath>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "metrics/promql/evaluator.h"
#include "metrics/promql/str_util.h"

namespace pantau::metrics::promql {
namespace {

// Returns the value and whether a comparison keeps the sample.
std::pair<double, bool> ElemBinop(Op op, double l, double r) {
  switch (op) {
    case Op::kAdd:
      return {l + r, true};
    case Op::kSub:
      return {l - r, true};
    case Op::kMul:
      return {l * r, true};
    case Op::kDiv:
      return {l / r, true};
    case Op::kPow:
      return {std::pow(l, r), true};
    case Op::kMod:
      return {std::fmod(l, r), true};
    case Op::kAtan2:
      return {std::atan2(l, r), true};
    case Op::kEql:
      return {l, l == r};
    case Op::kNeq:
      return {l, l != r};
    case Op::kGtr:
      return {l, l > r};
    case Op::kLss:
      return {l, l < r};
    case Op::kGte:
      return {l, l >= r};
    case Op::kLte:
      return {l, l <= r};
    default:
      return {0, false};
  }
}

// atan2 keeps the name, as in Prometheus 2.42.
bool DropsName(Op op) {
  return !IsComparison(op) && !IsSetOp(op) && op != Op::kAtan2;
}

uint64_t Signature(const base::Labels& l, const VectorMatching& vm) {
  return vm.on ? l.HashFor(vm.labels) : l.HashWithout(vm.labels);
}

base::Labels ResultMetric(const base::Labels& lhs, const base::Labels& rhs,
                          Op op, const VectorMatching& vm) {
  base::LabelsBuilder b(lhs);
  if (DropsName(op)) b.Del(base::kMetricName);
  if (vm.card == Cardinality::kOneToOne) {
    if (vm.on) {
      b.Keep(vm.labels);
    } else {
      for (const auto& l : vm.labels) b.Del(l);
    }
  }
  for (const auto& ln : vm.include) {
    std::string_view v = rhs.Get(ln);
    if (!v.empty()) {
      b.Set(ln, v);
    } else {
      b.Del(ln);
    }
  }
  return b.Build();
}

base::Labels MatchLabels(const base::Labels& l, const VectorMatching& vm) {
  base::LabelsBuilder b(l);
  if (vm.on) {
    b.Keep(vm.labels);
  } else {
    b.Del(base::kMetricName);
    for (const auto& n : vm.labels) b.Del(n);
  }
  return b.Build();
}

void SetOp(const BinaryExpr& be, const Vector& lhs, const Vector& rhs,
           Vector* out) {
  const VectorMatching& vm = *be.matching;
  absl::flat_hash_set<uint64_t> sigs;
  switch (be.op) {
    case Op::kAnd:
      for (const auto& s : rhs) sigs.insert(Signature(s.labels, vm));
      for (const auto& s : lhs) {
        if (sigs.contains(Signature(s.labels, vm))) out->push_back(s);
      }
      break;
    case Op::kOr:
      for (const auto& s : lhs) {
        sigs.insert(Signature(s.labels, vm));
        out->push_back(s);
      }
      for (const auto& s : rhs) {
        if (!sigs.contains(Signature(s.labels, vm))) out->push_back(s);
      }
      break;
    case Op::kUnless:
      for (const auto& s : rhs) sigs.insert(Signature(s.labels, vm));
      for (const auto& s : lhs) {
        if (!sigs.contains(Signature(s.labels, vm))) out->push_back(s);
      }
      break;
    default:
      break;
  }
}

}  // namespace

double ScalarBinop(Op op, double l, double r) {
  auto [v, keep] = ElemBinop(op, l, r);
  if (IsComparison(op)) return keep ? 1 : 0;
  return v;
}

absl::Status VectorBinop(const BinaryExpr& be, const Vector& lhs_in,
                         const Vector& rhs_in, Vector* out) {
  if (IsSetOp(be.op)) {
    SetOp(be, lhs_in, rhs_in, out);
    return absl::OkStatus();
  }
  const VectorMatching& vm = *be.matching;
  const bool swap = vm.card == Cardinality::kOneToMany;
  const Vector& lhs = swap ? rhs_in : lhs_in;
  const Vector& rhs = swap ? lhs_in : rhs_in;
  // The rhs is the "one" side: its signatures must be unique.
  absl::flat_hash_map<uint64_t, const VectorSample*> right;
  right.reserve(rhs.size());
  for (const auto& rs : rhs) {
    auto [it, inserted] = right.try_emplace(Signature(rs.labels, vm), &rs);
    if (!inserted) {
      return ExecutionError(
          Cat("found duplicate series for the match group ",
              MatchLabels(rs.labels, vm).ToString(), " on the ",
              swap ? "left" : "right", " hand-side of the operation: [",
              rs.labels.ToString(), ", ", it->second->labels.ToString(),
              "];many-to-many matching not allowed: matching labels must be "
              "unique on one side"));
    }
  }
  absl::flat_hash_map<uint64_t, absl::flat_hash_set<uint64_t>> matched;
  for (const auto& ls : lhs) {
    uint64_t sig = Signature(ls.labels, vm);
    auto it = right.find(sig);
    if (it == right.end()) continue;
    const VectorSample& rs = *it->second;
    double vl = ls.v, vr = rs.v;
    if (swap) std::swap(vl, vr);
    auto [value, keep] = ElemBinop(be.op, vl, vr);
    if (be.return_bool) {
      value = keep ? 1 : 0;
    } else if (!keep) {
      continue;
    }
    base::Labels metric = ResultMetric(ls.labels, rs.labels, be.op, vm);
    if (be.return_bool) metric = DropMetricName(metric);
    auto [mit, first] = matched.try_emplace(sig);
    if (vm.card == Cardinality::kOneToOne) {
      if (!first) {
        return ExecutionError(
            "multiple matches for labels: many-to-one matching must be "
            "explicit (group_left/group_right)");
      }
    } else if (!mit->second.insert(metric.Hash()).second) {
      return ExecutionError(
          "multiple matches for labels: grouping labels must ensure unique "
          "matches");
    }
    out->push_back(VectorSample{std::move(metric), ls.t, value});
  }
  return absl::OkStatus();
}

void VectorScalarBinop(const BinaryExpr& be, const Vector& vec, double scalar,
                       bool scalar_on_left, Vector* out) {
  for (const auto& s : vec) {
    double lv = s.v, rv = scalar;
    if (scalar_on_left) std::swap(lv, rv);
    auto [value, keep] = ElemBinop(be.op, lv, rv);
    // A comparison keeps the vector's value even with the scalar on the left.
    if (IsComparison(be.op) && scalar_on_left) value = rv;
    if (be.return_bool) {
      value = keep ? 1 : 0;
      keep = true;
    }
    if (!keep) continue;
    VectorSample o{s.labels, s.t, value};
    if (DropsName(be.op) || be.return_bool) o.labels = DropMetricName(o.labels);
    out->push_back(std::move(o));
  }
}

// Matching where the "one" side's signatures are unique (and, one-to-one,
// the other side's too): each series meets at most one partner at every
// step, so pairs and their result labels are found once and the points
// merged by time.
void SetOpSeriesWise(const BinaryExpr& be, const Matrix& lhs, const Matrix& rhs,
                     Matrix* out);

bool VectorVectorSeriesWise(const BinaryExpr& be, const Matrix& lhs_in,
                            const Matrix& rhs_in, Matrix* out) {
  if (!be.matching) return false;
  if (IsSetOp(be.op)) {
    SetOpSeriesWise(be, lhs_in, rhs_in, out);
    return true;
  }
  const VectorMatching& vm = *be.matching;
  // As in VectorBinop, the rhs is the "one" side after swapping.
  const bool swap = vm.card == Cardinality::kOneToMany;
  const Matrix& lhs = swap ? rhs_in : lhs_in;
  const Matrix& rhs = swap ? lhs_in : rhs_in;
  absl::flat_hash_map<uint64_t, size_t> right;
  right.reserve(rhs.size());
  for (size_t k = 0; k < rhs.size(); ++k) {
    if (!right.try_emplace(Signature(rhs[k].labels, vm), k).second) {
      return false;
    }
  }
  absl::flat_hash_set<uint64_t> left;
  left.reserve(lhs.size());
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t k = 0; k < lhs.size(); ++k) {
    uint64_t sig = Signature(lhs[k].labels, vm);
    if (vm.card == Cardinality::kOneToOne && !left.insert(sig).second) {
      return false;
    }
    auto it = right.find(sig);
    if (it != right.end()) pairs.emplace_back(k, it->second);
  }
  Matrix res;
  std::vector<base::Labels> labels;
  for (auto [li, ri] : pairs) {
    const auto& lp = lhs[li].points;
    const auto& rp = rhs[ri].points;
    Series s;
    size_t j = 0;
    for (const Point& p : lp) {
      while (j < rp.size() && rp[j].t < p.t) ++j;
      if (j >= rp.size()) break;
      if (rp[j].t != p.t) continue;
      double vl = p.v, vr = rp[j].v;
      if (swap) std::swap(vl, vr);
      auto [value, keep] = ElemBinop(be.op, vl, vr);
      if (be.return_bool) {
        value = keep ? 1 : 0;
      } else if (!keep) {
        continue;
      }
      s.points.push_back(Point{p.t, value});
    }
    if (s.points.empty()) continue;
    s.labels = ResultMetric(lhs[li].labels, rhs[ri].labels, be.op, vm);
    if (be.return_bool) s.labels = DropMetricName(s.labels);
    labels.push_back(s.labels);
    res.push_back(std::move(s));
  }
  // Colliding results are errors only at steps where both exist; the
  // step-wise path reports those exactly.
  if (!AllDistinct(labels)) return false;
  *out = std::move(res);
  return true;
}

// and/or/unless by series: what matters per step is only whether some
// series of the other side with the same signature has a point then, so
// each side's signatures map to the sorted times they are present.
void SetOpSeriesWise(const BinaryExpr& be, const Matrix& lhs, const Matrix& rhs,
                     Matrix* out) {
  const VectorMatching& vm = *be.matching;
  auto times_by_sig = [&vm](const Matrix& m) {
    absl::flat_hash_map<uint64_t, std::vector<int64_t>> times;
    for (const Series& s : m) {
      auto& t = times[Signature(s.labels, vm)];
      size_t mid = t.size();
      for (const Point& p : s.points) t.push_back(p.t);
      std::inplace_merge(t.begin(), t.begin() + mid, t.end());
    }
    return times;
  };
  auto present = [](const std::vector<int64_t>* t, int64_t ts) {
    return t != nullptr && std::binary_search(t->begin(), t->end(), ts);
  };
  auto filter = [&](const Series& s, const std::vector<int64_t>* t,
                    bool keep_if_present) {
    Series r;
    for (const Point& p : s.points) {
      if (present(t, p.t) == keep_if_present) r.points.push_back(p);
    }
    if (!r.points.empty()) {
      r.labels = s.labels;
      out->push_back(std::move(r));
    }
  };
  out->clear();
  if (be.op == Op::kAnd || be.op == Op::kUnless) {
    auto times = times_by_sig(rhs);
    for (const Series& s : lhs) {
      auto it = times.find(Signature(s.labels, vm));
      filter(s, it == times.end() ? nullptr : &it->second, be.op == Op::kAnd);
    }
    return;
  }
  // or: all of lhs, then rhs where no lhs series of its signature is.
  auto times = times_by_sig(lhs);
  absl::flat_hash_map<base::Labels, size_t> index;
  for (const Series& s : lhs) {
    index.emplace(s.labels, out->size());
    out->push_back(s);
  }
  for (const Series& s : rhs) {
    auto it = times.find(Signature(s.labels, vm));
    const std::vector<int64_t>* t = it == times.end() ? nullptr : &it->second;
    auto found = index.find(s.labels);
    if (found == index.end()) {
      size_t before = out->size();
      filter(s, t, false);
      if (out->size() > before) index.emplace(s.labels, before);
      continue;
    }
    // The same labels on both sides (only where lhs is absent): merge.
    Series& dst = (*out)[found->second];
    std::vector<Point> merged;
    size_t i = 0;
    for (const Point& p : s.points) {
      if (present(t, p.t)) continue;
      while (i < dst.points.size() && dst.points[i].t < p.t) {
        merged.push_back(dst.points[i++]);
      }
      merged.push_back(p);
    }
    while (i < dst.points.size()) merged.push_back(dst.points[i++]);
    dst.points = std::move(merged);
  }
}

bool AllDistinct(const std::vector<base::Labels>& labels) {
  if (labels.size() < 2) return true;
  std::vector<const std::string*> ls;
  ls.reserve(labels.size());
  for (const auto& l : labels) ls.push_back(&l.data());
  std::sort(ls.begin(), ls.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (size_t i = 1; i < ls.size(); ++i) {
    if (*ls[i] == *ls[i - 1]) return false;
  }
  return true;
}

// A vector's series keep their identity through an operation with a
// scalar, so labels change once per series and values per point.
bool VectorScalarSeriesWise(const BinaryExpr& be, Matrix* m,
                            const std::vector<double>& scalar,
                            bool scalar_on_left, int64_t start,
                            int64_t interval) {
  const bool drop = DropsName(be.op) || be.return_bool;
  std::vector<base::Labels> labels;
  if (drop) {
    labels.reserve(m->size());
    for (const Series& s : *m) labels.push_back(DropMetricName(s.labels));
    // Colliding series must fail per step, as the step-wise path does.
    if (!AllDistinct(labels)) return false;
  }
  const bool cmp = IsComparison(be.op);
  size_t w = 0;
  for (size_t k = 0; k < m->size(); ++k) {
    Series& s = (*m)[k];
    size_t o = 0;
    for (const Point& p : s.points) {
      double sc = scalar[(p.t - start) / interval];
      double lv = p.v, rv = sc;
      if (scalar_on_left) std::swap(lv, rv);
      auto [value, keep] = ElemBinop(be.op, lv, rv);
      if (cmp && scalar_on_left) value = rv;
      if (be.return_bool) {
        value = keep ? 1 : 0;
        keep = true;
      }
      if (keep) s.points[o++] = Point{p.t, value};
    }
    s.points.resize(o);
    if (drop) s.labels = std::move(labels[k]);
    if (o > 0) {
      if (w != k) (*m)[w] = std::move(s);
      ++w;
    }
  }
  m->resize(w);
  return true;
}

}  // namespace pantau::metrics::promql
