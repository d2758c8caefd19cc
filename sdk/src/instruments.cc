// Histogram recording, bucket helpers and the per-instrument snapshots.
#include <bit>
#include <chrono>
#include <cmath>

#include "base/check.h"
#include "pantau/sdk/metrics.h"

namespace pantau::sdk {

namespace internal {
uint32_t AssignStripe() {
  static std::atomic<uint32_t> next{0};
  tls_stripe_plus_one = next.fetch_add(1, std::memory_order_relaxed) + 1;
  if (tls_stripe_plus_one == 0) tls_stripe_plus_one = 1;  // wrapped
  return tls_stripe_plus_one;
}
}  // namespace internal

Histogram::Histogram(const std::vector<double>* bounds,
                     int64_t start_time_unix_nano)
    : bounds_(bounds),
      stride_((bounds->size() + 2 + 7) / 8 * 8),
      lines_(new Line[kStripes * stride_ / 8]),
      exemplars_(new ExemplarSlot[bounds->size() + 1]),
      start_(start_time_unix_nano) {
  for (size_t l = 0; l < kStripes * stride_ / 8; ++l) {
    for (auto& w : lines_[l].word) w.store(0, std::memory_order_relaxed);
  }
}

void Histogram::ObserveWithExemplar(double v, const SpanContext& context) {
  size_t i = BucketIndex(v);
  Add(i, v);
  if (context.IsValid()) RecordExemplar(i, v, context);
}

void Histogram::RecordExemplar(size_t bucket, double v,
                               const SpanContext& context) {
  ExemplarSlot& slot = exemplars_[bucket];
  if (slot.busy.exchange(true, std::memory_order_acquire)) return;
  slot.present = true;
  slot.exemplar.value = v;
  slot.exemplar.time_unix_nano = internal::NowUnixNano();
  slot.exemplar.trace_id = context.trace_id;
  slot.exemplar.span_id = context.span_id;
  slot.busy.store(false, std::memory_order_release);
}

void Histogram::Snapshot(PointSnapshot* out) const {
  size_t n = bounds_->size() + 1;
  out->bucket_counts.resize(n);
  out->count = 0;
  out->sum = 0;
  for (size_t i = 0; i < n; ++i) {
    uint64_t c = 0;
    for (size_t st = 0; st < kStripes; ++st) {
      c += Word(st, i).load(std::memory_order_relaxed);
    }
    out->bucket_counts[i] = c;
    // The count is the sum of the buckets so that _count always equals
    // the +Inf bucket, whatever races with observers.
    out->count += c;
  }
  for (size_t st = 0; st < kStripes; ++st) {
    out->sum +=
        std::bit_cast<double>(Word(st, n).load(std::memory_order_relaxed));
  }
  out->exemplars.clear();
  out->exemplar_buckets.clear();
  for (size_t i = 0; i < n; ++i) {
    ExemplarSlot& slot = exemplars_[i];
    while (slot.busy.exchange(true, std::memory_order_acquire)) {
    }
    if (slot.present) {
      out->exemplars.push_back(slot.exemplar);
      out->exemplar_buckets.push_back(i);
    }
    slot.busy.store(false, std::memory_order_release);
  }
}

std::vector<double> DefaultBuckets() {
  return {.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10};
}

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  PANTAU_CHECK(start > 0 && factor > 1 && count >= 1)
      << "invalid exponential buckets";
  std::vector<double> out;
  double b = start;
  for (int i = 0; i < count; ++i, b *= factor) out.push_back(b);
  return out;
}

std::vector<double> LinearBuckets(double start, double width, int count) {
  PANTAU_CHECK(width > 0 && count >= 1) << "invalid linear buckets";
  std::vector<double> out;
  for (int i = 0; i < count; ++i) out.push_back(start + width * i);
  return out;
}

namespace internal {

int64_t NowUnixNano() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void CheckLabelCount(const MetricDesc& desc, size_t values) {
  PANTAU_CHECK(values == desc.label_names.size())
      << desc.name << ": got " << values << " label values for "
      << desc.label_names.size() << " label names";
}

void SnapshotInstrument(const Counter& c, PointSnapshot* out) {
  out->value = c.Value();
}
void SnapshotInstrument(const UpDownCounter& c, PointSnapshot* out) {
  out->value = c.Value();
}
void SnapshotInstrument(const Gauge& g, PointSnapshot* out) {
  out->value = g.Value();
}
void SnapshotInstrument(const Histogram& h, PointSnapshot* out) {
  h.Snapshot(out);
}

}  // namespace internal
}  // namespace pantau::sdk
