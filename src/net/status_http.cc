#include "net/status_http.h"

#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace pantau::net {

int HttpStatusFromStatusCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
      return 422;
    case absl::StatusCode::kUnimplemented:
      return 501;
    // Prometheus answers 503 for both errorCanceled and errorTimeout
    // (web/api/v1 respondError), and clients retry on it.
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

std::string_view ErrorTypeFromStatusCode(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return "";
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return "bad_data";
    case absl::StatusCode::kNotFound:
      return "not_found";
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
      return "execution";
    case absl::StatusCode::kCancelled:
      return "canceled";
    case absl::StatusCode::kDeadlineExceeded:
      return "timeout";
    case absl::StatusCode::kUnavailable:
      return "unavailable";
    default:
      return "internal";
  }
}

absl::StatusCode StatusCodeFromHttpStatus(int s) {
  if (s >= 200 && s < 300) return absl::StatusCode::kOk;
  switch (s) {
    case 400:
    case 422:
      return absl::StatusCode::kInvalidArgument;
    case 401:
      return absl::StatusCode::kUnauthenticated;
    case 403:
      return absl::StatusCode::kPermissionDenied;
    case 404:
      return absl::StatusCode::kNotFound;
    case 408:
    case 504:
      return absl::StatusCode::kDeadlineExceeded;
    case 409:
      return absl::StatusCode::kAborted;
    case 413:
    case 429:
      return absl::StatusCode::kResourceExhausted;
    case 501:
      return absl::StatusCode::kUnimplemented;
    case 502:
    case 503:
      return absl::StatusCode::kUnavailable;
    default:
      break;
  }
  if (s >= 400 && s < 500) return absl::StatusCode::kFailedPrecondition;
  if (s >= 500 && s < 600) return absl::StatusCode::kInternal;
  return absl::StatusCode::kUnknown;
}

std::string PrometheusErrorJson(std::string_view error_type,
                                std::string_view message) {
  std::string out = R"({"status":"error","errorType":")";
  AppendJsonEscaped(&out, error_type);
  out.append(R"(","error":")");
  AppendJsonEscaped(&out, message);
  out.append("\"}");
  return out;
}

HttpResponse PrometheusErrorResponse(const absl::Status& status) {
  return HttpResponse::Json(
      HttpStatusFromStatusCode(status.code()),
      PrometheusErrorJson(ErrorTypeFromStatusCode(status.code()),
                          base::StdSv(status.message())));
}

HttpResponse TextErrorResponse(const absl::Status& status) {
  return HttpResponse::Error(HttpStatusFromStatusCode(status.code()),
                             base::StdSv(status.message()));
}

}  // namespace pantau::net
