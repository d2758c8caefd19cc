// Metrics: Counter, UpDownCounter, Gauge and Histogram instruments, grouped
// into families by name with a fixed list of label names, kept in a
// Registry that is read by the Prometheus text writer (prometheus_text.h)
// and the OTLP metrics exporter.
//
//   sdk::Registry& r = sdk::Registry::Default();
//   auto& requests = r.CounterFamily({.name = "http_requests_total",
//                                     .help = "Requests served.",
//                                     .label_names = {"method", "code"}});
//   sdk::Counter& get_ok = requests.WithLabels({"GET", "200"});  // bind once
//   get_ok.Inc();                                // hot path: one atomic add
//
// Recording (Inc/Add/Set/Observe) is lock-free: each label set has its own
// cell of atomics, found once by WithLabels and then used directly.
// WithLabels itself takes a mutex; keep the returned reference instead of
// calling it per event.
//
// Names come from code: an invalid metric or label name, a wrong number of
// label values, or re-registering a name with a different type, label names
// or buckets is a programming error and CHECK-fails. Label values may come
// from anywhere.
//
// Thread safety: everything here is safe to call concurrently. Instruments
// and families live as long as their Registry.
#ifndef PANTAU_SDK_METRICS_H_
#define PANTAU_SDK_METRICS_H_

#include <atomic>
#include <bit>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "pantau/sdk/span_context.h"

namespace pantau::sdk {

enum class MetricType {
  kCounter,        // monotonic sum; Prometheus "counter"
  kUpDownCounter,  // non-monotonic sum; Prometheus "gauge"
  kGauge,          // last value; Prometheus "gauge"
  kHistogram,      // explicit buckets; Prometheus "histogram"
};

// ---------------------------------------------------------------------------
// Snapshots: what a collection returns, shared by every output format.

struct Exemplar {
  double value = 0;
  int64_t time_unix_nano = 0;
  TraceId trace_id;
  SpanId span_id;
};

struct PointSnapshot {
  // One value per FamilySnapshot::label_names, in that order.
  std::vector<std::string> label_values;
  // Counter, up-down counter and gauge value.
  double value = 0;
  // Histogram: per-bucket (not cumulative) counts, one more than bounds
  // (the last is the +Inf bucket); sum of observations; their count.
  std::vector<uint64_t> bucket_counts;
  double sum = 0;
  uint64_t count = 0;
  // Histogram: the latest exemplar of each bucket that has one, with
  // exemplar_buckets[i] the bucket index of exemplars[i].
  std::vector<Exemplar> exemplars;
  std::vector<size_t> exemplar_buckets;
  // When this series started counting (cumulative temporality).
  int64_t start_time_unix_nano = 0;
};

struct FamilySnapshot {
  std::string name;
  std::string help;
  std::string unit;  // UCUM, e.g. "s", "By"; "" when unknown
  MetricType type = MetricType::kGauge;
  std::vector<std::string> label_names;
  // Histogram upper bounds, ascending, without +Inf.
  std::vector<double> bounds;
  std::vector<PointSnapshot> points;  // sorted by label values
};

// ---------------------------------------------------------------------------
// Instruments. Each is one label set's cell; get them from a Family or the
// Registry, never construct them directly.

class Counter {
 public:
  explicit Counter(int64_t start_time_unix_nano)
      : start_(start_time_unix_nano) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void Inc() { whole_.fetch_add(1, std::memory_order_relaxed); }
  // Adds v; negative or NaN v is ignored because a counter never goes down.
  void Add(double v) {
    if (!(v >= 0)) return;
    // Whole numbers take the integer path: an atomic add rather than a CAS
    // loop on a double, and no rounding however long the counter runs.
    if (v < 9.0e18) {
      uint64_t whole = static_cast<uint64_t>(v);
      if (static_cast<double>(whole) == v) {
        whole_.fetch_add(whole, std::memory_order_relaxed);
        return;
      }
    }
    frac_.fetch_add(v, std::memory_order_relaxed);
  }
  double Value() const {
    return static_cast<double>(whole_.load(std::memory_order_relaxed)) +
           frac_.load(std::memory_order_relaxed);
  }
  int64_t start_time_unix_nano() const { return start_; }

 private:
  std::atomic<uint64_t> whole_{0};
  std::atomic<double> frac_{0};
  int64_t start_;
};

class UpDownCounter {
 public:
  explicit UpDownCounter(int64_t start_time_unix_nano)
      : start_(start_time_unix_nano) {}
  UpDownCounter(const UpDownCounter&) = delete;
  UpDownCounter& operator=(const UpDownCounter&) = delete;

  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }
  int64_t start_time_unix_nano() const { return start_; }

 private:
  std::atomic<double> value_{0};
  int64_t start_;
};

class Gauge {
 public:
  explicit Gauge(int64_t start_time_unix_nano) : start_(start_time_unix_nano) {}
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  void Inc() { Add(1); }
  void Dec() { Add(-1); }
  double Value() const { return value_.load(std::memory_order_relaxed); }
  int64_t start_time_unix_nano() const { return start_; }

 private:
  std::atomic<double> value_{0};
  int64_t start_;
};

namespace internal {

// This thread's index for striped instruments: 0, 1, 2, ... in the order
// threads first observe (so two threads never share a stripe until there
// are more threads than stripes).
uint32_t AssignStripe();
__attribute__((tls_model(
    "initial-exec"))) inline thread_local uint32_t tls_stripe_plus_one = 0;
inline uint32_t ThisThreadStripe() {
  uint32_t s = tls_stripe_plus_one;
  if (__builtin_expect(s == 0, 0)) s = AssignStripe();
  return s - 1;
}

}  // namespace internal

class Histogram {
 public:
  // `bounds` must outlive the histogram (its family owns them).
  Histogram(const std::vector<double>* bounds, int64_t start_time_unix_nano);
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  // Records v. When a sampled span is active on this thread, v also becomes
  // its bucket's exemplar, carrying that span's trace and span id.
  void Observe(double v) {
    size_t i = BucketIndex(v);
    Add(i, v);
    const SpanContext* active = internal::tls_active_span_context;
    if (active != nullptr && active->IsSampled()) {
      RecordExemplar(i, v, *active);
    }
  }
  // Records v with an explicit exemplar context (if valid).
  void ObserveWithExemplar(double v, const SpanContext& context);

  // Fills bucket_counts, sum, count and exemplars of `out`.
  void Snapshot(PointSnapshot* out) const;
  const std::vector<double>& bounds() const { return *bounds_; }
  int64_t start_time_unix_nano() const { return start_; }

 private:
  struct ExemplarSlot {
    // A try-lock: a writer that finds it taken skips (an exemplar is a
    // sample, losing one is fine); the reader spins, writers hold it for a
    // few stores only.
    std::atomic<bool> busy{false};
    bool present = false;
    Exemplar exemplar;
  };

  size_t BucketIndex(double v) const {
    // Linear scan: typical histograms have ~10-20 buckets and most
    // observations fall in the first few, which beats a binary search.
    const double* b = bounds_->data();
    size_t n = bounds_->size();
    size_t i = 0;
    while (i < n && !(v <= b[i])) ++i;
    return i;
  }
  void RecordExemplar(size_t bucket, double v, const SpanContext& context);

  // Counts and sum are striped: each thread adds to its own stripe (cache
  // lines of its own), so threads observing the same histogram at once do
  // not fight over one line, and the sum's compare-and-swap does not
  // retry. A stripe is `stride_` words: bounds + 1 bucket counts, then
  // the sum (a double's bits), padded to whole cache lines.
  static constexpr size_t kStripes = 4;
  struct alignas(64) Line {
    std::atomic<uint64_t> word[8];
  };
  std::atomic<uint64_t>& Word(size_t stripe, size_t i) const {
    size_t w = stripe * stride_ + i;
    return lines_[w / 8].word[w % 8];
  }
  void Add(size_t bucket, double v) {
    size_t stripe = internal::ThisThreadStripe() % kStripes;
    Word(stripe, bucket).fetch_add(1, std::memory_order_relaxed);
    std::atomic<uint64_t>& sum = Word(stripe, bounds_->size() + 1);
    uint64_t old_bits = sum.load(std::memory_order_relaxed);
    while (!sum.compare_exchange_weak(
        old_bits, std::bit_cast<uint64_t>(std::bit_cast<double>(old_bits) + v),
        std::memory_order_relaxed)) {
    }
  }

  const std::vector<double>* bounds_;
  size_t stride_;                  // words per stripe, a multiple of 8
  std::unique_ptr<Line[]> lines_;  // kStripes * stride_ / 8
  std::unique_ptr<ExemplarSlot[]> exemplars_;  // bounds + 1
  int64_t start_;
};

// Prometheus client defaults: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10.
std::vector<double> DefaultBuckets();
// start, start*factor, ... (count bounds); start > 0, factor > 1.
std::vector<double> ExponentialBuckets(double start, double factor, int count);
// start, start+width, ... (count bounds); width > 0.
std::vector<double> LinearBuckets(double start, double width, int count);

// ---------------------------------------------------------------------------
// Families.

struct MetricDesc {
  // [a-zA-Z_:][a-zA-Z0-9_:]*. Counters should end in "_total" (Prometheus
  // convention; the name is used unchanged in every format).
  std::string name;
  // One line of text; escaped on output.
  std::string help;
  // Label names, [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__"; "le" is
  // reserved for histograms. Default: none.
  std::vector<std::string> label_names;
  // UCUM unit for OTLP ("s", "By", "1"); default none.
  std::string unit;
};

// The part of a family the registry collects without knowing its type.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const MetricDesc& desc() const { return desc_; }
  MetricType type() const { return type_; }
  virtual void Collect(FamilySnapshot* out) const = 0;

 protected:
  FamilyBase(MetricDesc desc, MetricType type)
      : desc_(std::move(desc)), type_(type) {}
  MetricDesc desc_;
  MetricType type_;
};

namespace internal {
int64_t NowUnixNano();
// CHECK-fails unless values.size() == names.size().
void CheckLabelCount(const MetricDesc& desc, size_t values);
void SnapshotInstrument(const Counter& c, PointSnapshot* out);
void SnapshotInstrument(const UpDownCounter& c, PointSnapshot* out);
void SnapshotInstrument(const Gauge& g, PointSnapshot* out);
void SnapshotInstrument(const Histogram& h, PointSnapshot* out);
}  // namespace internal

// All label sets of one metric. T is Counter, UpDownCounter, Gauge or
// Histogram.
template <typename T>
class Family : public FamilyBase {
 public:
  Family(MetricDesc desc, MetricType type, std::vector<double> bounds = {})
      : FamilyBase(std::move(desc), type), bounds_(std::move(bounds)) {}

  // The instrument for these label values (one per label name, in order),
  // created on first use. The reference is valid as long as the registry.
  // Takes a mutex: call once and keep the reference on hot paths.
  T& WithLabels(std::initializer_list<std::string_view> values) {
    return WithLabels(std::vector<std::string>(values.begin(), values.end()));
  }
  T& WithLabels(std::vector<std::string> values) {
    internal::CheckLabelCount(desc_, values.size());
    absl::MutexLock lock(&mu_);
    auto it = cells_.find(values);
    if (it == cells_.end()) {
      it = cells_.emplace(std::move(values), New()).first;
    }
    return *it->second;
  }
  const std::vector<double>& bounds() const { return bounds_; }

  void Collect(FamilySnapshot* out) const override {
    out->name = desc_.name;
    out->help = desc_.help;
    out->unit = desc_.unit;
    out->type = type_;
    out->label_names = desc_.label_names;
    out->bounds = bounds_;
    absl::MutexLock lock(&mu_);
    out->points.reserve(cells_.size());
    for (const auto& [values, cell] : cells_) {
      PointSnapshot& p = out->points.emplace_back();
      p.label_values = values;
      p.start_time_unix_nano = cell->start_time_unix_nano();
      internal::SnapshotInstrument(*cell, &p);
    }
  }

 private:
  std::unique_ptr<T> New() {
    if constexpr (std::is_same_v<T, Histogram>) {
      return std::make_unique<T>(&bounds_, internal::NowUnixNano());
    } else {
      return std::make_unique<T>(internal::NowUnixNano());
    }
  }

  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  // std::map keeps output sorted by label values; lookups are off the hot
  // path by design.
  std::map<std::vector<std::string>, std::unique_ptr<T>> cells_
      ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------
// Values read at collection time.

// Receives the values a callback reports during one collection.
class CallbackObserver {
 public:
  explicit CallbackObserver(FamilySnapshot* out) : out_(out) {}
  // One value per label name of the callback's MetricDesc, in order;
  // a wrong count CHECK-fails.
  void Observe(std::vector<std::string> label_values, double value);
  void Observe(double value) { Observe({}, value); }

 private:
  FamilySnapshot* out_;
};

// A source of whole families at collection time (e.g. the process
// collector). Collect may be called from any thread, concurrently.
class Collector {
 public:
  virtual ~Collector() = default;
  virtual void Collect(std::vector<FamilySnapshot>* out) const = 0;
};

// ---------------------------------------------------------------------------

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A process-wide registry, never destroyed.
  static Registry& Default();

  // Families: created on first call; a later call with the same name and
  // the same type, label names (and bounds) returns the same family.
  Family<Counter>& CounterFamily(MetricDesc desc);
  Family<UpDownCounter>& UpDownCounterFamily(MetricDesc desc);
  Family<Gauge>& GaugeFamily(MetricDesc desc);
  // `bounds`: strictly ascending finite upper bounds; a trailing +Inf is
  // dropped (it is always implied). Default: DefaultBuckets().
  Family<Histogram>& HistogramFamily(MetricDesc desc,
                                     std::vector<double> bounds = {});

  // Shortcuts for metrics without labels.
  Counter& GetCounter(std::string name, std::string help,
                      std::string unit = "");
  UpDownCounter& GetUpDownCounter(std::string name, std::string help,
                                  std::string unit = "");
  Gauge& GetGauge(std::string name, std::string help, std::string unit = "");
  Histogram& GetHistogram(std::string name, std::string help,
                          std::vector<double> bounds = {},
                          std::string unit = "");

  // A counter, up-down counter or gauge whose values `fn` reports at each
  // collection (e.g. queue lengths, totals kept elsewhere). `fn` runs on
  // the collecting thread and must not call back into this registry.
  void AddCallback(MetricDesc desc, MetricType type,
                   std::function<void(CallbackObserver&)> fn);
  // Unlabeled shortcuts.
  void AddCallbackGauge(std::string name, std::string help,
                        std::function<double()> fn);
  void AddCallbackCounter(std::string name, std::string help,
                          std::function<double()> fn);

  // Adds whole families at collection time. Their names must not clash
  // with registered ones (not checked: a collector's names are dynamic).
  void AddCollector(std::shared_ptr<const Collector> collector);

  // Everything, sorted by family name. Families without points are left
  // out.
  std::vector<FamilySnapshot> Collect() const;

 private:
  struct CallbackEntry {
    MetricDesc desc;
    MetricType type;
    std::function<void(CallbackObserver&)> fn;
    int64_t start;  // registration time, the points' start time
  };

  // Returns the existing family (checking it matches) or nullptr.
  FamilyBase* FindLocked(const MetricDesc& desc, MetricType type,
                         const std::vector<double>* bounds) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CheckNewNameLocked(const MetricDesc& desc, MetricType type) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  template <typename T>
  Family<T>& GetOrAdd(MetricDesc desc, MetricType type,
                      std::vector<double> bounds);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_
      ABSL_GUARDED_BY(mu_);
  std::vector<CallbackEntry> callbacks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<const Collector>> collectors_
      ABSL_GUARDED_BY(mu_);
};

// Name checks, exposed for callers holding names from input.
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);

}  // namespace pantau::sdk

#endif  // PANTAU_SDK_METRICS_H_
