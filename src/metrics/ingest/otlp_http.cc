// OTLP/HTTP decoding for the metrics receiver: gzip, protobuf or JSON
// bodies, and the response in the request's encoding.
#include <string>

#include "absl/strings/str_cat.h"
#include "base/compression.h"
#include "base/strings.h"
#include "google/protobuf/util/json_util.h"
#include "metrics/ingest/otlp_metrics.h"
#include "nlohmann/json.hpp"
#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb.h"

namespace pantau::metrics::ingest {
namespace {

using opentelemetry::proto::collector::metrics::v1::ExportMetricsServiceRequest;
using opentelemetry::proto::collector::metrics::v1::
    ExportMetricsServiceResponse;

bool HexToBytes(const std::string& hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

std::string Base64(const std::string& bytes) {
  static const char* kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) |
                 uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t v = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= uint8_t(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// OTLP/JSON writes trace and span ids as hex, where the protobuf JSON
// mapping expects base64 for bytes; rewrite them before decoding.
bool FixIds(nlohmann::json* j, int depth) {
  if (depth > 64) return false;
  if (j->is_object()) {
    for (auto it = j->begin(); it != j->end(); ++it) {
      if ((it.key() == "traceId" || it.key() == "spanId" ||
           it.key() == "trace_id" || it.key() == "span_id") &&
          it.value().is_string()) {
        std::string bytes;
        if (!HexToBytes(it.value().get<std::string>(), &bytes)) return false;
        it.value() = Base64(bytes);
      } else if (!FixIds(&it.value(), depth + 1)) {
        return false;
      }
    }
  } else if (j->is_array()) {
    for (auto& e : *j) {
      if (!FixIds(&e, depth + 1)) return false;
    }
  }
  return true;
}

OtlpHttpResult Error(IngestCounters* c, RejectReason r, int status,
                     std::string msg) {
  c->Reject(r);
  OtlpHttpResult out;
  out.http_status = status;
  out.content_type = "text/plain; charset=utf-8";
  out.body = std::move(msg);
  return out;
}

}  // namespace

OtlpHttpResult OtlpMetricsReceiver::HandleHttp(
    std::string_view body, std::string_view content_type,
    std::string_view content_encoding) {
  if (body.size() > options_.max_body_bytes) {
    return Error(
        counters_, RejectReason::kTooLarge, 413,
        absl::StrCat("request body of ", body.size(),
                     " bytes exceeds the limit of ", options_.max_body_bytes));
  }
  std::string decoded;
  if (content_encoding == "gzip") {
    absl::StatusOr<std::string> d = base::Decompress(
        base::Codec::kGzip, body, options_.max_decompressed_bytes);
    if (!d.ok()) {
      if (d.status().code() == absl::StatusCode::kResourceExhausted) {
        return Error(counters_, RejectReason::kTooLarge, 413,
                     std::string(d.status().message()));
      }
      return Error(counters_, RejectReason::kCorruptCompression, 400,
                   absl::StrCat("corrupt gzip body: ", d.status().message()));
    }
    decoded = *std::move(d);
    body = decoded;
  } else if (!content_encoding.empty() && content_encoding != "identity") {
    return Error(counters_, RejectReason::kCorruptCompression, 415,
                 absl::StrCat("unsupported Content-Encoding \"",
                              base::Sv(content_encoding), "\""));
  }
  const std::string_view media = content_type.substr(0, content_type.find(';'));
  const bool json = media == "application/json";
  if (!json && media != "application/x-protobuf") {
    return Error(
        counters_, RejectReason::kBadProtobuf, 415,
        absl::StrCat("unsupported Content-Type \"", base::Sv(content_type),
                     "\"; use application/x-protobuf or "
                     "application/json"));
  }
  google::protobuf::Arena arena;
  auto* req =
      google::protobuf::Arena::CreateMessage<ExportMetricsServiceRequest>(
          &arena);
  if (json) {
    nlohmann::json j = nlohmann::json::parse(body.begin(), body.end(), nullptr,
                                             /*allow_exceptions=*/false);
    if (j.is_discarded() || !FixIds(&j, 0)) {
      return Error(counters_, RejectReason::kBadJson, 400,
                   "body is not valid OTLP JSON");
    }
    google::protobuf::util::JsonParseOptions opts;
    opts.ignore_unknown_fields = true;
    auto st = google::protobuf::util::JsonStringToMessage(j.dump(), req, opts);
    if (!st.ok()) {
      return Error(counters_, RejectReason::kBadJson, 400,
                   absl::StrCat("body is not valid OTLP JSON: ",
                                st.message().ToString()));
    }
  } else if (!req->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Error(counters_, RejectReason::kBadProtobuf, 400,
                 "body is not a valid ExportMetricsServiceRequest protobuf");
  }

  ExportMetricsServiceResponse resp;
  uint64_t accepted = 0;
  absl::Status s = DoExport(*req, &resp, &accepted);
  if (!s.ok()) {
    OtlpHttpResult out;
    out.http_status = 503;
    out.content_type = "text/plain; charset=utf-8";
    out.body = std::string(s.message());
    return out;
  }
  OtlpHttpResult out;
  out.rejected_points = resp.partial_success().rejected_data_points();
  out.samples_accepted = accepted;
  if (json) {
    out.content_type = "application/json";
    (void)google::protobuf::util::MessageToJsonString(resp, &out.body);
  } else {
    out.content_type = "application/x-protobuf";
    out.body = resp.SerializeAsString();
  }
  return out;
}

}  // namespace pantau::metrics::ingest
