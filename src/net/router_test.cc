#include "net/router.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pantau::net {
namespace {

Handler Reply(std::string text) {
  return [text](const HttpRequest&, RequestContext&) {
    return HttpResponse::Text(200, text);
  };
}

HttpResponse Call(const Router& r, std::string method, std::string target,
                  HttpRequest* out = nullptr) {
  HttpRequest req;
  req.method = std::move(method);
  req.target = std::move(target);
  req.path = req.target.substr(0, req.target.find('?'));
  RequestContext ctx;
  HttpResponse resp = r.Serve(req, ctx);
  if (out != nullptr) *out = req;
  return resp;
}

TEST(Router, MatchesLiteralRoutes) {
  Router r;
  ASSERT_TRUE(r.Handle("GET", "/api/v1/query", Reply("query")).ok());
  ASSERT_TRUE(r.Handle("GET", "/api/v1/labels", Reply("labels")).ok());
  ASSERT_TRUE(r.Handle("GET", "/", Reply("root")).ok());
  EXPECT_EQ(Call(r, "GET", "/api/v1/query?query=up").body, "query");
  EXPECT_EQ(Call(r, "GET", "/api/v1/labels").body, "labels");
  EXPECT_EQ(Call(r, "GET", "/").body, "root");
  EXPECT_EQ(Call(r, "GET", "/api/v1/query/").status, 404);
  EXPECT_EQ(Call(r, "GET", "/api/v1").status, 404);
}

TEST(Router, ExtractsDecodedPathParamsAndPattern) {
  Router r;
  ASSERT_TRUE(r.Handle("GET", "/api/v1/label/:name/values", Reply("v")).ok());
  HttpRequest seen;
  HttpResponse resp = Call(r, "GET", "/api/v1/label/job%2Fx/values", &seen);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(seen.route, "/api/v1/label/:name/values");
  EXPECT_EQ(seen.PathParam("name"), "job/x");
  // A :param needs a non-empty segment.
  EXPECT_EQ(Call(r, "GET", "/api/v1/label//values").status, 404);
}

TEST(Router, LiteralBeatsParamBeatsCatchAll) {
  Router r;
  ASSERT_TRUE(r.Handle("GET", "/ui/*path", Reply("static")).ok());
  ASSERT_TRUE(r.Handle("GET", "/ui/:page", Reply("page")).ok());
  ASSERT_TRUE(r.Handle("GET", "/ui/index", Reply("index")).ok());
  EXPECT_EQ(Call(r, "GET", "/ui/index").body, "index");
  EXPECT_EQ(Call(r, "GET", "/ui/graph").body, "page");
  HttpRequest seen;
  EXPECT_EQ(Call(r, "GET", "/ui/js/app.js", &seen).body, "static");
  EXPECT_EQ(seen.PathParam("path"), "js/app.js");
  EXPECT_EQ(Call(r, "GET", "/ui/", &seen).body, "static");
  EXPECT_EQ(seen.PathParam("path"), "");
  EXPECT_EQ(Call(r, "GET", "/ui").status, 404);
}

TEST(Router, RootCatchAllServesEverythingElse) {
  Router r;
  ASSERT_TRUE(r.Handle("GET", "/*path", Reply("ui")).ok());
  ASSERT_TRUE(r.Handle("GET", "/metrics", Reply("metrics")).ok());
  EXPECT_EQ(Call(r, "GET", "/metrics").body, "metrics");
  EXPECT_EQ(Call(r, "GET", "/").body, "ui");
  EXPECT_EQ(Call(r, "GET", "/a/b/c").body, "ui");
}

TEST(Router, WrongMethodGets405WithAllow) {
  Router r;
  ASSERT_TRUE(r.Handle({"GET", "POST"}, "/api/v1/query", Reply("q")).ok());
  ASSERT_TRUE(r.Handle("DELETE", "/api/v1/query", Reply("d")).ok());
  HttpResponse resp = Call(r, "PUT", "/api/v1/query");
  EXPECT_EQ(resp.status, 405);
  EXPECT_EQ(resp.headers.Get("Allow"), "DELETE, GET, HEAD, POST");
  EXPECT_EQ(Call(r, "POST", "/api/v1/query").body, "q");
}

TEST(Router, MethodFoundOnLessSpecificRouteIsUsed) {
  Router r;
  ASSERT_TRUE(r.Handle("GET", "/x/:id", Reply("get")).ok());
  ASSERT_TRUE(r.Handle("POST", "/x/*rest", Reply("post")).ok());
  EXPECT_EQ(Call(r, "POST", "/x/1").body, "post");
  EXPECT_EQ(Call(r, "GET", "/x/1").body, "get");
}

TEST(Router, HeadFallsBackToGet) {
  Router r;
  ASSERT_TRUE(r.Handle("GET", "/-/healthy", Reply("ok")).ok());
  HttpRequest seen;
  HttpResponse resp = Call(r, "HEAD", "/-/healthy", &seen);
  EXPECT_EQ(resp.status, 200);
  EXPECT_EQ(seen.route, "/-/healthy");
}

TEST(Router, RejectsBadPatternsAndDuplicates) {
  Router r;
  EXPECT_EQ(r.Handle("GET", "nope", Reply("")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Handle("GET", "/a/:", Reply("")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Handle("GET", "/a/*rest/b", Reply("")).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(r.Handle("GET", "/a/:x", Reply("")).ok());
  EXPECT_EQ(r.Handle("GET", "/a/:x", Reply("")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(r.Handle("POST", "/a/:y", Reply("")).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(r.Handle("POST", "/a/:x", Reply("")).ok());
}

TEST(Router, MalformedEscapeInPathParamIs400) {
  Router r;
  ASSERT_TRUE(r.Handle("GET", "/a/:x", Reply("")).ok());
  EXPECT_EQ(Call(r, "GET", "/a/%zz").status, 400);
}

TEST(Router, MiddlewareRunsOutermostFirstAroundEveryAnswer) {
  Router r;
  std::vector<std::string> log;
  r.Use([&](const HttpRequest& req, RequestContext& ctx, const Handler& next) {
    log.push_back("a>" + req.route);
    HttpResponse resp = next(req, ctx);
    log.push_back("<a" + std::to_string(resp.status));
    resp.headers.Set("X-A", "1");
    return resp;
  });
  r.Use([&](const HttpRequest& req, RequestContext& ctx, const Handler& next) {
    log.push_back("b>");
    HttpResponse resp = next(req, ctx);
    log.push_back("<b");
    return resp;
  });
  ASSERT_TRUE(r.Handle("GET", "/h", [&](const HttpRequest&, RequestContext&) {
                 log.push_back("h");
                 return HttpResponse::Text(200, "x");
               }).ok());
  HttpResponse resp = Call(r, "GET", "/h");
  EXPECT_EQ(resp.headers.Get("X-A"), "1");
  EXPECT_EQ(log, (std::vector<std::string>{"a>/h", "b>", "h", "<b", "<a200"}));
  log.clear();
  EXPECT_EQ(Call(r, "GET", "/missing").status, 404);
  EXPECT_EQ(log, (std::vector<std::string>{"a>", "b>", "<b", "<a404"}));
}

TEST(Router, MiddlewareMayShortCircuit) {
  Router r;
  r.Use([](const HttpRequest& req, RequestContext& ctx, const Handler& next) {
    if (req.Header("Authorization").empty()) {
      return HttpResponse::Error(401, "unauthorized");
    }
    return next(req, ctx);
  });
  bool called = false;
  ASSERT_TRUE(r.Handle("GET", "/h", [&](const HttpRequest&, RequestContext&) {
                 called = true;
                 return HttpResponse::Text(200, "x");
               }).ok());
  EXPECT_EQ(Call(r, "GET", "/h").status, 401);
  EXPECT_FALSE(called);
}

TEST(Router, FindReportsRouteOptions) {
  Router r;
  RouteOptions opts;
  opts.executor = Executor::kIngest;
  opts.max_body_bytes = 10;
  ASSERT_TRUE(r.Handle("POST", "/api/v1/write", Reply(""), opts).ok());
  Router::Match m = r.Find("POST", "/api/v1/write");
  ASSERT_EQ(m.status, 200);
  ASSERT_NE(m.options, nullptr);
  EXPECT_EQ(m.options->executor, Executor::kIngest);
  EXPECT_EQ(m.options->max_body_bytes, 10u);
  EXPECT_EQ(r.Find("GET", "/api/v1/write").status, 405);
  EXPECT_EQ(r.Find("GET", "/nope").options, nullptr);
}

}  // namespace
}  // namespace pantau::net
