#include <any>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "net/router.h"
#include "pantau/sdk/http_instrumentation.h"
#include "pantau/sdk/prometheus_text.h"
#include "pantau/sdk/span_processor.h"

namespace pantau::sdk {
namespace {

using ::testing::HasSubstr;

struct Env {
  Env() {
    exporter = std::make_shared<InMemorySpanExporter>();
    TracerProviderOptions o;
    o.processors.push_back(std::make_shared<SimpleSpanProcessor>(exporter));
    provider = std::make_unique<TracerProvider>(std::move(o));
    router.Use(HttpServerMiddleware(
        {.tracer_provider = provider.get(), .registry = &registry}));
  }
  net::HttpResponse Serve(net::HttpRequest req) {
    net::RequestContext ctx;
    return router.Serve(req, ctx);
  }
  Registry registry;
  std::shared_ptr<InMemorySpanExporter> exporter;
  std::unique_ptr<TracerProvider> provider;
  net::Router router;
};

const AttributeValue& Attr(const SpanData& s, std::string_view key) {
  static const AttributeValue kNone = std::string("<absent>");
  const AttributeValue* v = FindAttribute(s.attributes, key);
  return v != nullptr ? *v : kNone;
}

TEST(HttpServerMiddleware, SpanPerRequestContinuingCallerTrace) {
  Env env;
  SpanContext seen;
  const SpanContext* active = nullptr;
  ASSERT_TRUE(
      env.router
          .Handle("GET", "/users/:id",
                  [&](const net::HttpRequest&, net::RequestContext& ctx) {
                    seen = std::any_cast<SpanContext>(
                        *ctx.GetValue(kSpanContextKey));
                    active = ActiveSpanContext();
                    return net::HttpResponse::Text(200, "ok");
                  })
          .ok());
  net::HttpRequest req;
  req.method = "GET";
  req.target = "/users/42?full=1";
  req.path = "/users/42";
  req.raw_query = "full=1";
  req.remote_address = "10.0.0.7:5555";
  req.headers.Add("traceparent",
                  "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
  req.headers.Add("User-Agent", "curl/8");
  EXPECT_EQ(env.Serve(req).status, 200);

  auto spans = env.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  const SpanData& s = spans[0];
  EXPECT_EQ(s.name, "GET /users/:id");
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.context.trace_id.ToHex(), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(s.parent_span_id.ToHex(), "b7ad6b7169203331");
  EXPECT_TRUE(s.parent_is_remote);
  EXPECT_EQ(std::get<std::string>(Attr(s, "http.request.method")), "GET");
  EXPECT_EQ(std::get<std::string>(Attr(s, "url.path")), "/users/42");
  EXPECT_EQ(std::get<std::string>(Attr(s, "url.query")), "full=1");
  EXPECT_EQ(std::get<std::string>(Attr(s, "http.route")), "/users/:id");
  EXPECT_EQ(std::get<std::string>(Attr(s, "client.address")), "10.0.0.7");
  EXPECT_EQ(std::get<std::string>(Attr(s, "user_agent.original")), "curl/8");
  EXPECT_EQ(std::get<int64_t>(Attr(s, "http.response.status_code")), 200);
  EXPECT_EQ(s.status_code, StatusCode::kUnset);
  // The handler saw the span as active and in the request context.
  EXPECT_EQ(seen.span_id, s.context.span_id);
  ASSERT_NE(active, nullptr);
  EXPECT_EQ(active->span_id, s.context.span_id);
  EXPECT_EQ(ActiveSpanContext(), nullptr);

  std::string text = PrometheusText(env.registry);
  EXPECT_THAT(text,
              HasSubstr("http_server_request_duration_seconds_count{"
                        "http_request_method=\"GET\",http_route=\"/users/:id\","
                        "http_response_status_code=\"200\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("le=\"0.075\""));
}

TEST(HttpServerMiddleware, MalformedTraceparentStartsNewTrace) {
  Env env;
  ASSERT_TRUE(env.router
                  .Handle("POST", "/x",
                          [](const net::HttpRequest&, net::RequestContext&) {
                            return net::HttpResponse::Text(503, "busy");
                          })
                  .ok());
  net::HttpRequest req;
  req.method = "POST";
  req.target = "/x";
  req.path = "/x";
  req.headers.Add("traceparent", "00-zzzz-garbage");
  EXPECT_EQ(env.Serve(req).status, 503);
  auto spans = env.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_TRUE(spans[0].context.trace_id.IsValid());
  EXPECT_FALSE(spans[0].parent_span_id.IsValid());
  EXPECT_EQ(spans[0].status_code, StatusCode::kError);
  EXPECT_EQ(std::get<std::string>(Attr(spans[0], "error.type")), "503");
}

TEST(HttpServerMiddleware, UnmatchedAndUnknownMethods) {
  Env env;
  ASSERT_TRUE(env.router
                  .Handle("GET", "/a",
                          [](const net::HttpRequest&, net::RequestContext&) {
                            return net::HttpResponse::Text(200, "");
                          })
                  .ok());
  net::HttpRequest req;
  req.method = "BREW";
  req.target = "/nope";
  req.path = "/nope";
  EXPECT_EQ(env.Serve(req).status, 404);
  auto spans = env.exporter->spans();
  ASSERT_EQ(spans.size(), 1u);
  EXPECT_EQ(spans[0].name, "_OTHER");
  EXPECT_EQ(std::get<std::string>(Attr(spans[0], "http.request.method")),
            "_OTHER");
  EXPECT_EQ(
      std::get<std::string>(Attr(spans[0], "http.request.method_original")),
      "BREW");
  EXPECT_EQ(std::get<std::string>(Attr(spans[0], "http.route")), "<absent>");
  EXPECT_THAT(PrometheusText(env.registry),
              HasSubstr("http_server_request_duration_seconds_count{"
                        "http_request_method=\"_OTHER\","
                        "http_response_status_code=\"404\"} 1\n"));
}

}  // namespace
}  // namespace pantau::sdk
