// Registry: families by name, callbacks and collectors, and collection.
#include <algorithm>
#include <cmath>

#include "base/check.h"
#include "pantau/sdk/metrics.h"

namespace pantau::sdk {
namespace {

bool IsNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void CheckDesc(const MetricDesc& desc, MetricType type) {
  PANTAU_CHECK(IsValidMetricName(desc.name))
      << "invalid metric name \"" << desc.name << "\"";
  for (size_t i = 0; i < desc.label_names.size(); ++i) {
    const std::string& l = desc.label_names[i];
    PANTAU_CHECK(IsValidLabelName(l))
        << desc.name << ": invalid label name \"" << l << "\"";
    PANTAU_CHECK(!(type == MetricType::kHistogram && l == "le"))
        << desc.name << ": \"le\" is reserved for histogram buckets";
    for (size_t j = 0; j < i; ++j) {
      PANTAU_CHECK(desc.label_names[j] != l)
          << desc.name << ": repeated label name \"" << l << "\"";
    }
  }
}

std::vector<double> NormalizeBounds(const std::string& name,
                                    std::vector<double> bounds) {
  if (bounds.empty()) bounds = DefaultBuckets();
  if (std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    PANTAU_CHECK(std::isfinite(bounds[i]))
        << name << ": bucket bounds must be finite";
    PANTAU_CHECK(i == 0 || bounds[i - 1] < bounds[i])
        << name << ": bucket bounds must be strictly ascending";
  }
  return bounds;
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(IsNameStart(c) || c == ':' || (i > 0 && IsDigit(c)))) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (!(IsNameStart(c) || (i > 0 && IsDigit(c)))) return false;
  }
  return true;
}

void CallbackObserver::Observe(std::vector<std::string> label_values,
                               double value) {
  PANTAU_CHECK(label_values.size() == out_->label_names.size())
      << out_->name << ": callback reported " << label_values.size()
      << " label values for " << out_->label_names.size() << " label names";
  PointSnapshot& p = out_->points.emplace_back();
  p.label_values = std::move(label_values);
  p.value = value;
}

Registry& Registry::Default() {
  static Registry* const registry = new Registry();
  return *registry;
}

FamilyBase* Registry::FindLocked(const MetricDesc& desc, MetricType type,
                                 const std::vector<double>* bounds) const {
  auto it = families_.find(desc.name);
  if (it == families_.end()) return nullptr;
  FamilyBase* f = it->second.get();
  PANTAU_CHECK(f->type() == type && f->desc().label_names == desc.label_names)
      << "metric \"" << desc.name
      << "\" re-registered with a different type or label names";
  if (bounds != nullptr) {
    PANTAU_CHECK(static_cast<Family<Histogram>*>(f)->bounds() == *bounds)
        << "histogram \"" << desc.name
        << "\" re-registered with different buckets";
  }
  return f;
}

void Registry::CheckNewNameLocked(const MetricDesc& desc,
                                  MetricType type) const {
  CheckDesc(desc, type);
  for (const CallbackEntry& c : callbacks_) {
    PANTAU_CHECK(c.desc.name != desc.name)
        << "metric \"" << desc.name << "\" registered twice";
  }
}

template <typename T>
Family<T>& Registry::GetOrAdd(MetricDesc desc, MetricType type,
                              std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  bool histogram = type == MetricType::kHistogram;
  if (FamilyBase* f = FindLocked(desc, type, histogram ? &bounds : nullptr)) {
    return *static_cast<Family<T>*>(f);
  }
  CheckNewNameLocked(desc, type);
  std::string name = desc.name;
  auto family =
      std::make_unique<Family<T>>(std::move(desc), type, std::move(bounds));
  Family<T>& ref = *family;
  families_.emplace(std::move(name), std::move(family));
  return ref;
}

Family<Counter>& Registry::CounterFamily(MetricDesc desc) {
  return GetOrAdd<Counter>(std::move(desc), MetricType::kCounter, {});
}
Family<UpDownCounter>& Registry::UpDownCounterFamily(MetricDesc desc) {
  return GetOrAdd<UpDownCounter>(std::move(desc), MetricType::kUpDownCounter,
                                 {});
}
Family<Gauge>& Registry::GaugeFamily(MetricDesc desc) {
  return GetOrAdd<Gauge>(std::move(desc), MetricType::kGauge, {});
}
Family<Histogram>& Registry::HistogramFamily(MetricDesc desc,
                                             std::vector<double> bounds) {
  bounds = NormalizeBounds(desc.name, std::move(bounds));
  return GetOrAdd<Histogram>(std::move(desc), MetricType::kHistogram,
                             std::move(bounds));
}

Counter& Registry::GetCounter(std::string name, std::string help,
                              std::string unit) {
  return CounterFamily({.name = std::move(name),
                        .help = std::move(help),
                        .unit = std::move(unit)})
      .WithLabels(std::vector<std::string>{});
}
UpDownCounter& Registry::GetUpDownCounter(std::string name, std::string help,
                                          std::string unit) {
  return UpDownCounterFamily({.name = std::move(name),
                              .help = std::move(help),
                              .unit = std::move(unit)})
      .WithLabels(std::vector<std::string>{});
}
Gauge& Registry::GetGauge(std::string name, std::string help,
                          std::string unit) {
  return GaugeFamily({.name = std::move(name),
                      .help = std::move(help),
                      .unit = std::move(unit)})
      .WithLabels(std::vector<std::string>{});
}
Histogram& Registry::GetHistogram(std::string name, std::string help,
                                  std::vector<double> bounds,
                                  std::string unit) {
  return HistogramFamily({.name = std::move(name),
                          .help = std::move(help),
                          .unit = std::move(unit)},
                         std::move(bounds))
      .WithLabels(std::vector<std::string>{});
}

void Registry::AddCallback(MetricDesc desc, MetricType type,
                           std::function<void(CallbackObserver&)> fn) {
  PANTAU_CHECK(type != MetricType::kHistogram)
      << desc.name << ": callback histograms are not supported";
  absl::MutexLock lock(&mu_);
  PANTAU_CHECK(families_.count(desc.name) == 0)
      << "metric \"" << desc.name << "\" registered twice";
  CheckNewNameLocked(desc, type);
  callbacks_.push_back(
      {std::move(desc), type, std::move(fn), internal::NowUnixNano()});
}

void Registry::AddCallbackGauge(std::string name, std::string help,
                                std::function<double()> fn) {
  AddCallback({.name = std::move(name), .help = std::move(help)},
              MetricType::kGauge,
              [fn = std::move(fn)](CallbackObserver& o) { o.Observe(fn()); });
}

void Registry::AddCallbackCounter(std::string name, std::string help,
                                  std::function<double()> fn) {
  AddCallback({.name = std::move(name), .help = std::move(help)},
              MetricType::kCounter,
              [fn = std::move(fn)](CallbackObserver& o) { o.Observe(fn()); });
}

void Registry::AddCollector(std::shared_ptr<const Collector> collector) {
  absl::MutexLock lock(&mu_);
  collectors_.push_back(std::move(collector));
}

std::vector<FamilySnapshot> Registry::Collect() const {
  std::vector<FamilySnapshot> out;
  absl::MutexLock lock(&mu_);
  out.reserve(families_.size() + callbacks_.size());
  for (const auto& [name, family] : families_) {
    FamilySnapshot snap;
    family->Collect(&snap);
    if (!snap.points.empty()) out.push_back(std::move(snap));
  }
  for (const CallbackEntry& c : callbacks_) {
    FamilySnapshot snap;
    snap.name = c.desc.name;
    snap.help = c.desc.help;
    snap.unit = c.desc.unit;
    snap.type = c.type;
    snap.label_names = c.desc.label_names;
    CallbackObserver observer(&snap);
    c.fn(observer);
    for (PointSnapshot& p : snap.points) p.start_time_unix_nano = c.start;
    std::sort(snap.points.begin(), snap.points.end(),
              [](const PointSnapshot& a, const PointSnapshot& b) {
                return a.label_values < b.label_values;
              });
    if (!snap.points.empty()) out.push_back(std::move(snap));
  }
  for (const auto& collector : collectors_) {
    std::vector<FamilySnapshot> more;
    collector->Collect(&more);
    for (FamilySnapshot& f : more) {
      if (!f.points.empty()) out.push_back(std::move(f));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const FamilySnapshot& a, const FamilySnapshot& b) {
                     return a.name < b.name;
                   });
  return out;
}

}  // namespace pantau::sdk
