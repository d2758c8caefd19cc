#include "pantau/sdk/trace.h"

#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pantau/sdk/semconv.h"
#include "pantau/sdk/span_processor.h"

namespace pantau::sdk {
namespace {

using ::testing::ElementsAre;

struct Fixture {
  explicit Fixture(std::unique_ptr<Sampler> sampler = nullptr,
                   SpanLimits limits = {}) {
    exporter = std::make_shared<InMemorySpanExporter>();
    TracerProviderOptions o;
    o.resource = Resource({{semconv::kServiceName, std::string("svc")}});
    o.sampler = std::move(sampler);
    o.processors.push_back(std::make_shared<SimpleSpanProcessor>(exporter));
    o.clock = &clock;
    o.limits = limits;
    provider = std::make_unique<TracerProvider>(std::move(o));
  }
  base::FakeClock clock{absl::FromUnixSeconds(1700000000)};
  std::shared_ptr<InMemorySpanExporter> exporter;
  std::unique_ptr<TracerProvider> provider;
};

TEST(Span, RecordsEverythingOnEnd) {
  Fixture f;
  Tracer& tracer = f.provider->GetTracer("lib", "1.2");
  SpanContext link;
  link.trace_id = TraceId::Random();
  link.span_id = SpanId::Random();
  {
    Span span = tracer.StartSpan(
        "GET /x",
        {.kind = SpanKind::kServer,
         .attributes = {{semconv::kHttpRequestMethod, std::string("GET")}}});
    ASSERT_TRUE(span.IsRecording());
    EXPECT_TRUE(span.context().IsSampled());
    span.SetAttribute(semconv::kHttpResponseStatusCode, 200);
    span.SetAttribute("ratio", 0.5);
    span.SetAttribute(std::string("dyn.key"), true);
    span.SetAttribute("http.request.method", "POST");  // replaces
    f.clock.Advance(absl::Milliseconds(5));
    span.AddEvent("retry", {{"attempt", int64_t{2}}});
    span.AddLink(link, {{"why", std::string("batch")}});
    span.SetStatus(StatusCode::kError, "boom");
    f.clock.Advance(absl::Milliseconds(5));
  }
  auto spans = f.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& s = spans[0];
  EXPECT_EQ(s.name, "GET /x");
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.start_time_unix_nano, 1700000000000000000);
  EXPECT_EQ(s.end_time_unix_nano, 1700000000010000000);
  ASSERT_EQ(s.attributes.size(), 4u);
  EXPECT_EQ(std::get<std::string>(
                *FindAttribute(s.attributes, "http.request.method")),
            "POST");
  EXPECT_EQ(std::get<int64_t>(
                *FindAttribute(s.attributes, "http.response.status_code")),
            200);
  EXPECT_EQ(std::get<double>(*FindAttribute(s.attributes, "ratio")), 0.5);
  EXPECT_TRUE(std::get<bool>(*FindAttribute(s.attributes, "dyn.key")));
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "retry");
  EXPECT_EQ(s.events[0].time_unix_nano, 1700000000005000000);
  ASSERT_EQ(s.links.size(), 1u);
  EXPECT_EQ(s.links[0].context.trace_id, link.trace_id);
  EXPECT_EQ(s.status_code, StatusCode::kError);
  EXPECT_EQ(s.status_message, "boom");
  EXPECT_EQ(s.scope->name, "lib");
  EXPECT_EQ(s.scope->version, "1.2");
  EXPECT_EQ(s.resource->GetString("service.name"), "svc");
  EXPECT_FALSE(s.parent_span_id.IsValid());
}

TEST(Span, ActiveScopeBecomesParent) {
  Fixture f;
  Tracer& t = f.provider->GetTracer("lib");
  Span parent = t.StartSpan("parent");
  SpanContext parent_ctx = parent.context();
  {
    Scope scope(parent);
    EXPECT_EQ(ActiveSpanContext(), &parent.context());
    Span child = t.StartSpan("child");
    EXPECT_EQ(child.context().trace_id, parent_ctx.trace_id);
    {
      Scope inner(child);
      Span root = t.StartSpan("root", {.root = true});
      EXPECT_NE(root.context().trace_id, parent_ctx.trace_id);
    }
    EXPECT_EQ(ActiveSpanContext(), &parent.context());
  }
  EXPECT_EQ(ActiveSpanContext(), nullptr);
  parent.End();
  auto spans = f.exporter->spans();
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_EQ(spans[1].name, "child");
  EXPECT_EQ(spans[1].parent_span_id, parent_ctx.span_id);
}

// Regression: the active context pointed into the span's data, which End()
// hands to the processors (and the exporter frees).
TEST(Span, ScopeStaysValidAfterEnd) {
  Fixture f;
  Span s = f.provider->GetTracer("t").StartSpan("x");
  TraceId id = s.context().trace_id;
  Scope scope(s);
  s.End();
  f.exporter->Clear();  // frees the exported copies
  ASSERT_NE(ActiveSpanContext(), nullptr);
  EXPECT_EQ(ActiveSpanContext()->trace_id, id);
  Span child = f.provider->GetTracer("t").StartSpan("child");
  EXPECT_EQ(child.context().trace_id, id);
}

TEST(Span, StatusOkIsFinalAndUnsetIgnored) {
  Fixture f;
  Span s = f.provider->GetTracer("t").StartSpan("x");
  s.SetStatus(StatusCode::kOk, "ignored description");
  s.SetStatus(StatusCode::kError, "late");
  s.SetStatus(StatusCode::kUnset);
  s.End();
  s.End();  // idempotent
  auto spans = f.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status_code, StatusCode::kOk);
  EXPECT_EQ(spans[0].status_message, "");
}

TEST(Span, LimitsDropAndCount) {
  Fixture f(nullptr, {.max_attributes = 2, .max_events = 1, .max_links = 0});
  Span s = f.provider->GetTracer("t").StartSpan("x");
  s.SetAttribute("a", 1);
  s.SetAttribute("b", 2);
  s.SetAttribute("c", 3);
  s.SetAttribute("a", 4);  // replacing is not dropping
  s.AddEvent("e1");
  s.AddEvent("e2");
  SpanContext link{TraceId::Random(), SpanId::Random()};
  s.AddLink(link);
  s.RecordException("std::runtime_error", "x");
  s.End();
  SpanData d = f.exporter->spans().at(0);
  EXPECT_EQ(d.attributes.size(), 2u);
  EXPECT_EQ(d.dropped_attributes, 1u);
  EXPECT_EQ(d.dropped_events, 2u);
  EXPECT_EQ(d.dropped_links, 1u);
}

TEST(Span, RemoteParentAndTraceStateCarryOver) {
  Fixture f;
  SpanContext remote;
  remote.trace_id = TraceId::Random();
  remote.span_id = SpanId::Random();
  remote.trace_flags = kTraceFlagSampled;
  remote.trace_state = "congo=1";
  remote.is_remote = true;
  Span s = f.provider->GetTracer("t").StartSpan("x", {.parent = &remote});
  EXPECT_EQ(s.context().trace_id, remote.trace_id);
  EXPECT_EQ(s.context().trace_state, "congo=1");
  EXPECT_FALSE(s.context().is_remote);
  s.End();
  SpanData d = f.exporter->spans().at(0);
  EXPECT_TRUE(d.parent_is_remote);
  EXPECT_EQ(d.parent_span_id, remote.span_id);
}

TEST(Sampler, ParentBasedFollowsUnsampledParent) {
  Fixture f;
  SpanContext remote{TraceId::Random(), SpanId::Random(), 0};
  Span s = f.provider->GetTracer("t").StartSpan("x", {.parent = &remote});
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.context().IsValid());
  EXPECT_FALSE(s.context().IsSampled());
  EXPECT_EQ(s.context().trace_id, remote.trace_id);
  EXPECT_NE(s.context().span_id, remote.span_id);
  s.SetAttribute("ignored", 1);
  s.End();
  EXPECT_TRUE(f.exporter->spans().empty());
}

TEST(Sampler, RatioIsDeterministicPerTraceAndRoughlyProportional) {
  auto sampler = TraceIdRatioSampler(0.25);
  int kept = 0;
  for (int i = 0; i < 20000; ++i) {
    TraceId id = TraceId::Random();
    bool a = sampler->ShouldSample({nullptr, id, "x", SpanKind::kInternal});
    bool b = sampler->ShouldSample({nullptr, id, "y", SpanKind::kServer});
    ASSERT_EQ(a, b);
    kept += a;
  }
  EXPECT_GT(kept, 4500);
  EXPECT_LT(kept, 5500);
  TraceId id = TraceId::Random();
  EXPECT_FALSE(TraceIdRatioSampler(0)->ShouldSample(
      {nullptr, id, "x", SpanKind::kInternal}));
  EXPECT_TRUE(TraceIdRatioSampler(1)->ShouldSample(
      {nullptr, id, "x", SpanKind::kInternal}));
  EXPECT_EQ(ParentBasedSampler(TraceIdRatioSampler(0.5))->Description(),
            "ParentBased{root=TraceIdRatioBased{0.500000}}");
}

TEST(Sampler, AlwaysOffStillPropagates) {
  Fixture f(AlwaysOffSampler());
  Span s = f.provider->GetTracer("t").StartSpan("x");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.context().IsValid());
}

TEST(TracerProvider, SameScopeSameTracerAndShutdownStopsRecording) {
  Fixture f;
  EXPECT_EQ(&f.provider->GetTracer("a", "1"), &f.provider->GetTracer("a", "1"));
  EXPECT_NE(&f.provider->GetTracer("a", "1"), &f.provider->GetTracer("a", "2"));
  ASSERT_TRUE(f.provider->Shutdown().ok());
  Span s = f.provider->GetTracer("a").StartSpan("late");
  EXPECT_FALSE(s.IsRecording());
}

TEST(TracerProvider, GlobalDefaultsToNoop) {
  Span s = GlobalTracerProvider().GetTracer("x").StartSpan("y");
  EXPECT_FALSE(s.IsRecording());
  EXPECT_TRUE(s.context().IsValid());
}

// Blocks in Export until released, so a test can fill the queue while the
// worker is busy.
class BlockingExporter : public SpanExporter {
 public:
  absl::Status Export(
      const std::vector<std::unique_ptr<SpanData>>& batch) override {
    if (!entered_.HasBeenNotified()) entered_.Notify();
    release_.WaitForNotification();
    absl::MutexLock lock(&mu_);
    for (const auto& s : batch) names_.push_back(s->name);
    return absl::OkStatus();
  }
  std::vector<std::string> names() {
    absl::MutexLock lock(&mu_);
    return names_;
  }
  absl::Notification entered_, release_;

 private:
  absl::Mutex mu_;
  std::vector<std::string> names_;
};

std::unique_ptr<SpanData> Named(std::string name) {
  auto d = std::make_unique<SpanData>();
  d->name = std::move(name);
  return d;
}

TEST(BatchSpanProcessor, FullQueueDropsOldestAndCounts) {
  auto exporter = std::make_shared<BlockingExporter>();
  BatchSpanProcessor p(exporter, {.max_queue_size = 2,
                                  .max_batch_size = 1,
                                  .schedule_delay = absl::Hours(1)});
  p.OnEnd(Named("a"));
  exporter->entered_.WaitForNotification();  // "a" is being exported
  p.OnEnd(Named("b"));
  p.OnEnd(Named("c"));
  p.OnEnd(Named("d"));  // queue full: "b" goes
  exporter->release_.Notify();
  ASSERT_TRUE(p.ForceFlush(absl::Seconds(30)).ok());
  EXPECT_THAT(exporter->names(), ElementsAre("a", "c", "d"));
  EXPECT_EQ(p.dropped(), 1u);
  EXPECT_EQ(p.exported(), 3u);
  Registry r;
  p.RegisterMetrics(r);
  auto fs = r.Collect();
  ASSERT_EQ(fs.size(), 3u);
  EXPECT_EQ(fs[0].name, "pantau_sdk_spans_dropped_total");
  EXPECT_EQ(fs[0].points[0].value, 1);
}

TEST(BatchSpanProcessor, ShutdownDeliversWhatIsQueued) {
  auto exporter = std::make_shared<InMemorySpanExporter>();
  auto p = std::make_shared<BatchSpanProcessor>(
      exporter, BatchOptions{.schedule_delay = absl::Hours(1)});
  for (int i = 0; i < 1000; ++i) p->OnEnd(Named("s" + std::to_string(i)));
  ASSERT_TRUE(p->Shutdown(absl::Seconds(30)).ok());
  EXPECT_EQ(exporter->spans().size(), 1000u);
  p->OnEnd(Named("late"));
  EXPECT_EQ(p->dropped(), 1u);
  EXPECT_TRUE(p->Shutdown(absl::Seconds(1)).ok());  // idempotent
}

class FailingExporter : public SpanExporter {
 public:
  absl::Status Export(const std::vector<std::unique_ptr<SpanData>>&) override {
    return absl::UnavailableError("collector down");
  }
};

TEST(BatchSpanProcessor, FlushReportsExportFailure) {
  BatchSpanProcessor p(std::make_shared<FailingExporter>(),
                       {.schedule_delay = absl::Hours(1)});
  p.OnEnd(Named("x"));
  absl::Status s = p.ForceFlush(absl::Seconds(30));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("collector down"));
  EXPECT_EQ(p.failed(), 1u);
}

}  // namespace
}  // namespace pantau::sdk
