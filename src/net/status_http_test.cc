#include "net/status_http.h"

#include "gtest/gtest.h"

namespace pantau::net {
namespace {

TEST(StatusHttp, MapsCodesAsPrometheusDoes) {
  struct Case {
    absl::StatusCode code;
    int http;
    std::string_view type;
  };
  const Case cases[] = {
      {absl::StatusCode::kInvalidArgument, 400, "bad_data"},
      {absl::StatusCode::kNotFound, 404, "not_found"},
      {absl::StatusCode::kResourceExhausted, 422, "execution"},
      {absl::StatusCode::kFailedPrecondition, 422, "execution"},
      {absl::StatusCode::kCancelled, 503, "canceled"},
      {absl::StatusCode::kDeadlineExceeded, 503, "timeout"},
      {absl::StatusCode::kUnavailable, 503, "unavailable"},
      {absl::StatusCode::kInternal, 500, "internal"},
      {absl::StatusCode::kDataLoss, 500, "internal"},
      {absl::StatusCode::kUnimplemented, 501, "internal"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(HttpStatusFromStatusCode(c.code), c.http) << c.code;
    EXPECT_EQ(ErrorTypeFromStatusCode(c.code), c.type) << c.code;
  }
  EXPECT_EQ(HttpStatusFromStatusCode(absl::StatusCode::kOk), 200);
}

TEST(StatusHttp, RendersPrometheusErrorEnvelopeEscaped) {
  HttpResponse r = PrometheusErrorResponse(
      absl::InvalidArgumentError("parse error: unexpected \"}\"\n"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.Get("Content-Type"), "application/json");
  EXPECT_EQ(
      r.body,
      R"({"status":"error","errorType":"bad_data","error":"parse error: unexpected \"}\"\n"})");
  std::string ctl;
  AppendJsonEscaped(&ctl, std::string_view("\x01", 1));
  EXPECT_EQ(ctl, "\\u0001");
}

TEST(StatusHttp, TextErrorForLokiStyle) {
  HttpResponse r = TextErrorResponse(absl::NotFoundError("no such stream"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "no such stream\n");
}

TEST(StatusHttp, MapsHttpStatusBackForClients) {
  EXPECT_EQ(StatusCodeFromHttpStatus(204), absl::StatusCode::kOk);
  EXPECT_EQ(StatusCodeFromHttpStatus(400), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusCodeFromHttpStatus(429),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeFromHttpStatus(503), absl::StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeFromHttpStatus(504), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(StatusCodeFromHttpStatus(418),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeFromHttpStatus(599), absl::StatusCode::kInternal);
  EXPECT_EQ(StatusCodeFromHttpStatus(302), absl::StatusCode::kUnknown);
}

}  // namespace
}  // namespace pantau::net
