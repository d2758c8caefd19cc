#include "pantau/outbox/sdk_instrumentation.h"

#include <sqlite3.h>

#include "gtest/gtest.h"
#include "pantau/outbox/consumer.h"
#include "pantau/outbox/memory_transport.h"
#include "pantau/outbox/relay.h"
#include "pantau/outbox/sqlite_store.h"
#include "pantau/sdk/propagation.h"
#include "pantau/sdk/span_processor.h"
#include "test_util.h"

namespace pantau::outbox {
namespace {

std::string Attr(const sdk::SpanData& s, std::string_view key) {
  const sdk::AttributeValue* v = sdk::FindAttribute(s.attributes, key);
  return v != nullptr ? sdk::AttributeValueToString(*v) : "";
}

const sdk::SpanData* Find(const std::vector<sdk::SpanData>& spans,
                          std::string_view name) {
  for (const auto& s : spans) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

double CounterValue(sdk::Registry& r, std::string_view name) {
  for (const auto& f : r.Collect()) {
    if (f.name == name && !f.points.empty()) return f.points[0].value;
  }
  return -1;
}

TEST(SdkInstrumentation, OneTraceFromEnqueueThroughPublishToProcess) {
  auto exporter = std::make_shared<sdk::InMemorySpanExporter>();
  sdk::TracerProviderOptions po;
  po.processors.push_back(std::make_shared<sdk::SimpleSpanProcessor>(exporter));
  sdk::TracerProvider provider(std::move(po));
  sdk::Registry registry;
  SdkInstrumentation inst({.provider = &provider, .registry = &registry});
  SetInstrumentation(&inst);

  testing::TempDir dir;
  auto store = SqliteStore::Open(dir.File("app.db"));
  ASSERT_TRUE(store.ok());
  sqlite3* app = (*store)->db();
  sdk::SpanContext request_ctx;
  {
    // The producer's request span is active while it enqueues.
    sdk::Span request = provider.GetTracer("shop").StartSpan(
        "POST /orders", {.kind = sdk::SpanKind::kServer});
    sdk::Scope scope(request);
    request_ctx = request.context();
    SqliteOutbox out(app);
    Message m;
    m.topic = "orders";
    m.key = "o1";
    ASSERT_EQ(sqlite3_exec(app, "BEGIN", nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_TRUE(out.Enqueue(m).ok());
    ASSERT_EQ(sqlite3_exec(app, "COMMIT", nullptr, nullptr, nullptr),
              SQLITE_OK);
    EXPECT_EQ(m.headers[kTraceparentHeader],
              sdk::FormatTraceparent(request_ctx));
  }

  MemoryTransport broker;
  Relay relay(store->get(), &broker, {.relay_id = "r"});
  ASSERT_EQ(*relay.RunOnce(), 1);
  ASSERT_TRUE(relay.Maintain().ok());

  sdk::SpanContext seen_in_handler;
  Consumer consumer(&broker, "billing",
                    [&](const Message&) -> absl::StatusOr<InboxResult> {
                      seen_in_handler = *sdk::ActiveSpanContext();
                      return InboxResult::kProcessed;
                    },
                    {.fetch_timeout = absl::Milliseconds(10)});
  ASSERT_EQ(*consumer.PollOnce(), 1);
  SetInstrumentation(nullptr);

  auto spans = exporter->spans();
  const sdk::SpanData* publish = Find(spans, "publish orders");
  const sdk::SpanData* process = Find(spans, "process orders");
  ASSERT_NE(publish, nullptr);
  ASSERT_NE(process, nullptr);
  EXPECT_EQ(publish->kind, sdk::SpanKind::kProducer);
  EXPECT_EQ(publish->context.trace_id, request_ctx.trace_id);
  EXPECT_EQ(publish->parent_span_id, request_ctx.span_id);
  EXPECT_EQ(Attr(*publish, "messaging.system"), "memory");
  EXPECT_EQ(Attr(*publish, "messaging.destination.name"), "orders");
  EXPECT_EQ(Attr(*publish, "messaging.operation.type"), "publish");
  EXPECT_FALSE(Attr(*publish, "messaging.message.id").empty());
  EXPECT_EQ(process->kind, sdk::SpanKind::kConsumer);
  EXPECT_EQ(process->context.trace_id, request_ctx.trace_id);
  EXPECT_EQ(process->parent_span_id, publish->context.span_id);
  EXPECT_EQ(Attr(*process, "messaging.operation.type"), "process");
  EXPECT_EQ(Attr(*process, "messaging.consumer.group.name"), "billing");
  EXPECT_EQ(Attr(*process, "messaging.message.id"),
            Attr(*publish, "messaging.message.id"));
  EXPECT_EQ(seen_in_handler.span_id, process->context.span_id);

  EXPECT_EQ(CounterValue(registry, "outbox_published_total"), 1);
  EXPECT_EQ(CounterValue(registry, "inbox_processed_total"), 1);
  EXPECT_EQ(CounterValue(registry, "outbox_pending_messages"), 0);
}

TEST(SdkInstrumentation, FailedPublishIsAnErrorSpanAndCounted) {
  auto exporter = std::make_shared<sdk::InMemorySpanExporter>();
  sdk::TracerProviderOptions po;
  po.processors.push_back(std::make_shared<sdk::SimpleSpanProcessor>(exporter));
  sdk::TracerProvider provider(std::move(po));
  sdk::Registry registry;
  SdkInstrumentation inst({.provider = &provider, .registry = &registry});
  Message m;
  m.topic = "orders";
  m.id = NewMessageId();
  auto span = inst.StartPublish(m, "nats");
  span->End(absl::UnavailableError("down"));
  inst.OnPublishFailed(m, absl::UnavailableError("down"));
  inst.OnDeadLettered(m);
  auto spans = exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].status_code, sdk::StatusCode::kError);
  // No stored context: the publish starts its own trace.
  EXPECT_FALSE(spans[0].parent_span_id.IsValid());
  EXPECT_EQ(m.headers[kTraceparentHeader],
            sdk::FormatTraceparent(spans[0].context));
  EXPECT_EQ(CounterValue(registry, "outbox_publish_failures_total"), 1);
  EXPECT_EQ(CounterValue(registry, "outbox_dead_lettered_total"), 1);
}

}  // namespace
}  // namespace pantau::outbox
