// Micro-benchmarks of the SDK's hot paths, single-threaded and with two
// threads contending on the same instrument / processor:
//   span start+end with 4 attributes (sampled, into a batch processor),
//   an unsampled span, counter add, histogram observe, a log record with 4
//   fields, and the exporter's encode cost per span (to derive its CPU
//   share at 10k spans/s).
//
//   build-*/bench/sdk/sdk_bench --benchmark_min_time=0.5
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/compression.h"
#include "pantau/sdk/logs.h"
#include "pantau/sdk/metrics.h"
#include "pantau/sdk/otlp_exporter.h"
#include "pantau/sdk/semconv.h"
#include "pantau/sdk/span_processor.h"
#include "pantau/sdk/trace.h"

namespace pantau::sdk {
namespace {

// Accepts everything, costs nothing: isolates the recording path.
class NullExporter : public SpanExporter {
 public:
  absl::Status Export(const std::vector<std::unique_ptr<SpanData>>&) override {
    return absl::OkStatus();
  }
};

TracerProvider& SampledProvider() {
  static TracerProvider* p = [] {
    TracerProviderOptions o;
    o.resource = Resource::Create({{semconv::kServiceName, std::string("b")}});
    o.processors.push_back(std::make_shared<BatchSpanProcessor>(
        std::make_shared<NullExporter>(),
        BatchOptions{.max_queue_size = 1 << 16, .max_batch_size = 512}));
    return new TracerProvider(std::move(o));
  }();
  return *p;
}

TracerProvider& UnsampledProvider() {
  static TracerProvider* p = [] {
    TracerProviderOptions o;
    o.sampler = ParentBasedSampler(AlwaysOffSampler());
    return new TracerProvider(std::move(o));
  }();
  return *p;
}

void BM_SpanSampled4Attributes(benchmark::State& state) {
  Tracer& t = SampledProvider().GetTracer("bench");
  for (auto _ : state) {
    Span s = t.StartSpan("GET /api/v1/query", {.kind = SpanKind::kServer});
    s.SetAttribute(semconv::kHttpRequestMethod, "GET");
    s.SetAttribute(semconv::kUrlPath, "/api/v1/query");
    s.SetAttribute(semconv::kHttpRoute, "/api/v1/query");
    s.SetAttribute(semconv::kHttpResponseStatusCode, 200);
    s.End();
  }
}
BENCHMARK(BM_SpanSampled4Attributes)->Threads(1)->Threads(2)->UseRealTime();

// The same span on a provider without processors: the recording cost
// alone, without handing the span to the export thread (the span is
// recycled on this thread).
TracerProvider& SampledNoExportProvider() {
  static TracerProvider* p = [] {
    TracerProviderOptions o;
    o.resource = Resource::Create({{semconv::kServiceName, std::string("b")}});
    return new TracerProvider(std::move(o));
  }();
  return *p;
}

void BM_SpanSampledNoExport(benchmark::State& state) {
  Tracer& t = SampledNoExportProvider().GetTracer("bench");
  for (auto _ : state) {
    Span s = t.StartSpan("GET /api/v1/query", {.kind = SpanKind::kServer});
    s.SetAttribute(semconv::kHttpRequestMethod, "GET");
    s.SetAttribute(semconv::kUrlPath, "/api/v1/query");
    s.SetAttribute(semconv::kHttpRoute, "/api/v1/query");
    s.SetAttribute(semconv::kHttpResponseStatusCode, 200);
    s.End();
  }
}
BENCHMARK(BM_SpanSampledNoExport)->Threads(1)->UseRealTime();

void BM_SpanUnsampled(benchmark::State& state) {
  Tracer& t = UnsampledProvider().GetTracer("bench");
  for (auto _ : state) {
    Span s = t.StartSpan("GET /api/v1/query", {.kind = SpanKind::kServer});
    s.SetAttribute(semconv::kHttpRequestMethod, "GET");
    s.End();
    benchmark::DoNotOptimize(s.context());
  }
}
BENCHMARK(BM_SpanUnsampled)->Threads(1)->Threads(2)->UseRealTime();

Registry& BenchRegistry() {
  static Registry* r = new Registry();
  return *r;
}

void BM_CounterInc(benchmark::State& state) {
  Counter& c = BenchRegistry()
                   .CounterFamily({.name = "bench_requests_total",
                                   .label_names = {"code"}})
                   .WithLabels({"200"});
  for (auto _ : state) c.Inc();
}
BENCHMARK(BM_CounterInc)->Threads(1)->Threads(2)->UseRealTime();

void BM_CounterAddDouble(benchmark::State& state) {
  Counter& c = BenchRegistry().GetCounter("bench_bytes_total", "");
  for (auto _ : state) c.Add(1.5);
}
BENCHMARK(BM_CounterAddDouble)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserve(benchmark::State& state) {
  Histogram& h = BenchRegistry()
                     .HistogramFamily({.name = "bench_duration_seconds",
                                       .label_names = {"route"}})
                     .WithLabels({"/"});
  double v = 0.0001;
  for (auto _ : state) {
    h.Observe(v);
    v = v < 20 ? v * 1.7 : 0.0001;  // walk across all buckets
  }
}
BENCHMARK(BM_HistogramObserve)->Threads(1)->Threads(2)->UseRealTime();

void BM_HistogramObserveWithExemplar(benchmark::State& state) {
  Histogram& h = BenchRegistry().GetHistogram("bench_ex_seconds", "");
  Span span = SampledProvider().GetTracer("bench").StartSpan("parent");
  Scope scope(span);
  for (auto _ : state) h.Observe(0.03);
}
BENCHMARK(BM_HistogramObserveWithExemplar)->Threads(1)->UseRealTime();

void BM_Log4FieldsLogfmt(benchmark::State& state) {
  static Logger* log = new Logger({.sink = [](std::string_view line) {
    benchmark::DoNotOptimize(line.data());
  }});
  for (auto _ : state) {
    log->Info("request served", {{"method", "GET"},
                                 {"path", "/api/v1/query"},
                                 {"status", 200},
                                 {"duration_ms", 12.5}});
  }
}
BENCHMARK(BM_Log4FieldsLogfmt)->Threads(1)->Threads(2)->UseRealTime();

void BM_LogBelowLevel(benchmark::State& state) {
  static Logger* log = new Logger({.min_severity = Severity::kWarn});
  for (auto _ : state) log->Debug("dropped", {{"k", 1}});
}
BENCHMARK(BM_LogBelowLevel);

// The exporter thread's work per batch of 512 typical server spans:
// encode the OTLP request, serialize, gzip (what the HTTP transport
// sends). Divide by 512 for the cost per span.
class CountingTransport : public OtlpTransport {
 public:
  explicit CountingTransport(bool gzip = true) : gzip_(gzip) {}
  OtlpResponse Send(const OtlpRequest& r) override {
    if (gzip_) {
      auto gz = base::Compress(base::Codec::kGzip, r.body, 1);  // as OTLP/HTTP
      benchmark::DoNotOptimize(gz);
    }
    return {OtlpResponse::Outcome::kOk, {}, 200};
  }

 private:
  bool gzip_;
};

void BM_ExportBatch512(benchmark::State& state) {
  static Resource resource =
      Resource::Create({{semconv::kServiceName, std::string("b")}});
  static InstrumentationScope scope{"bench", "1"};
  std::vector<std::unique_ptr<SpanData>> batch;
  for (int i = 0; i < 512; ++i) {
    auto d = std::make_unique<SpanData>();
    d->context.trace_id = TraceId::Random();
    d->context.span_id = SpanId::Random();
    d->context.trace_flags = 1;
    d->parent_span_id = SpanId::Random();
    d->name = "GET /api/v1/query";
    d->kind = SpanKind::kServer;
    d->start_time_unix_nano = 1700000000000000000 + i;
    d->end_time_unix_nano = d->start_time_unix_nano + 1234567;
    d->attributes = {{semconv::kHttpRequestMethod, std::string("GET")},
                     {semconv::kUrlPath, std::string("/api/v1/query")},
                     {semconv::kHttpRoute, std::string("/api/v1/query")},
                     {semconv::kHttpResponseStatusCode, int64_t{200}}};
    d->resource = &resource;
    d->scope = &scope;
    batch.push_back(std::move(d));
  }
  OtlpSpanExporter exporter(
      {.transport = std::make_shared<CountingTransport>()});
  for (auto _ : state) {
    benchmark::DoNotOptimize(exporter.Export(batch));
  }
  state.SetItemsProcessed(state.iterations() * 512);
}
BENCHMARK(BM_ExportBatch512)->Unit(benchmark::kMicrosecond);

double CpuSeconds(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// The whole export path at 10k spans/s for 3 s: spans ended on this thread
// (paced in bursts of 100 every 10 ms) go through a BatchSpanProcessor and
// the OTLP exporter (encode, serialize, gzip) on its worker thread. The
// counter is that worker's CPU (process CPU minus this thread's) as a
// percentage of one core.
void BM_ExporterCpuAt10kSpansPerSecond(benchmark::State& state) {
  for (auto _ : state) {
    TracerProviderOptions o;
    o.resource = Resource::Create({{semconv::kServiceName, std::string("b")}});
    o.processors.push_back(std::make_shared<BatchSpanProcessor>(
        std::make_shared<OtlpSpanExporter>(OtlpExporterOptions{
            .transport =
                std::make_shared<CountingTransport>(state.range(0) != 0)})));
    TracerProvider provider(std::move(o));
    Tracer& t = provider.GetTracer("bench");
    double proc0 = CpuSeconds(CLOCK_PROCESS_CPUTIME_ID);
    double self0 = CpuSeconds(CLOCK_THREAD_CPUTIME_ID);
    absl::Time start = absl::Now();
    for (int tick = 0; tick < 300; ++tick) {
      for (int i = 0; i < 100; ++i) {
        Span s = t.StartSpan("GET /api/v1/query", {.kind = SpanKind::kServer});
        s.SetAttribute(semconv::kHttpRequestMethod, "GET");
        s.SetAttribute(semconv::kUrlPath, "/api/v1/query");
        s.SetAttribute(semconv::kHttpRoute, "/api/v1/query");
        s.SetAttribute(semconv::kHttpResponseStatusCode, 200);
      }
      absl::SleepFor(start + absl::Milliseconds(10 * (tick + 1)) - absl::Now());
    }
    (void)provider.ForceFlush();
    double wall = absl::ToDoubleSeconds(absl::Now() - start);
    double exporter_cpu = (CpuSeconds(CLOCK_PROCESS_CPUTIME_ID) - proc0) -
                          (CpuSeconds(CLOCK_THREAD_CPUTIME_ID) - self0);
    state.counters["exporter_core_pct"] = 100 * exporter_cpu / wall;
    state.counters["spans_per_s"] = 30000 / wall;
  }
}
// Arg: 1 = gzip the bodies (the default), 0 = no compression.
BENCHMARK(BM_ExporterCpuAt10kSpansPerSecond)
    ->Arg(1)
    ->Arg(0)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace pantau::sdk

// Debian's Abseil is built without NDEBUG, so every absl::Mutex runs
// deadlock detection (a graph lookup per lock) unless a program turns it
// off, as a production binary should; SDK_BENCH_DEADLOCK_DETECTION=1 keeps
// it on to show its cost.
int main(int argc, char** argv) {
  if (std::getenv("SDK_BENCH_DEADLOCK_DETECTION") == nullptr) {
    absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
