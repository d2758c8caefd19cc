#include "net/internal/request_prep.h"

#include "absl/strings/str_cat.h"
#include "base/compression.h"
#include "net/internal/strings.h"
#include "net/url.h"

namespace pantau::net::internal {

namespace {

bool IsIdentity(std::string_view v) {
  v = TrimAscii(v);
  return v.empty() || EqualsIgnoreCase(v, "identity");
}

bool IsFormContentType(std::string_view ct) {
  std::string_view media = ct.substr(0, ct.find(';'));
  return EqualsIgnoreCase(TrimAscii(media),
                          "application/x-www-form-urlencoded");
}

}  // namespace

std::string_view RawPathOfTarget(std::string_view target) {
  if (StartsWithIgnoreCase(target, "http://") ||
      StartsWithIgnoreCase(target, "https://")) {
    size_t scheme_end = target.find("://") + 3;
    size_t slash = target.find('/', scheme_end);
    if (slash == std::string_view::npos) return "/";
    target = target.substr(slash);
  }
  return target.substr(0, target.find('?'));
}

std::optional<ProtocolErrorDetail> CheckContentEncoding(
    std::string_view value) {
  if (IsIdentity(value)) return std::nullopt;
  if (!base::CodecFromContentEncoding(TrimAscii(value))) {
    return ProtocolErrorDetail{
        ProtocolError::kUnsupportedEncoding,
        absl::StrCat("unsupported Content-Encoding \"", Sv(value),
                     "\"; supported: gzip, deflate, snappy, zstd")};
  }
  return std::nullopt;
}

std::optional<ProtocolErrorDetail> CheckRequestHeader(RequestReader& reader,
                                                      size_t max_body_bytes) {
  if (auto err = CheckContentEncoding(reader.header("Content-Encoding"))) {
    return err;
  }
  reader.SetBodyLimit(max_body_bytes);
  return reader.error();
}

std::optional<ProtocolErrorDetail> PrepareRequest(
    HttpRequest& request, size_t max_decoded_body_bytes) {
  std::string_view raw_path = RawPathOfTarget(request.target);
  if (raw_path.empty() || raw_path[0] != '/') {
    return ProtocolErrorDetail{ProtocolError::kMalformed,
                               "request target must be an absolute path"};
  }
  auto path = PercentDecode(raw_path, /*plus_as_space=*/false);
  if (!path.ok()) {
    return ProtocolErrorDetail{ProtocolError::kMalformed,
                               "invalid percent-encoding in path"};
  }
  request.path = *std::move(path);
  if (size_t q = request.target.find('?'); q != std::string::npos) {
    request.raw_query = request.target.substr(q + 1);
  }
  auto query = ParseQueryString(request.raw_query);
  if (!query.ok()) {
    return ProtocolErrorDetail{
        ProtocolError::kMalformed,
        absl::StrCat("invalid query string: ", query.status().message())};
  }
  request.params = Params();
  for (auto& [k, v] : *query) request.params.Add(std::move(k), std::move(v));

  std::string_view encoding = request.headers.Get("Content-Encoding");
  if (!IsIdentity(encoding)) {
    if (auto err = CheckContentEncoding(encoding)) return err;
    base::Codec codec = *base::CodecFromContentEncoding(TrimAscii(encoding));
    auto decoded =
        base::Decompress(codec, request.body, max_decoded_body_bytes);
    if (!decoded.ok()) {
      if (decoded.status().code() == absl::StatusCode::kResourceExhausted) {
        return ProtocolErrorDetail{
            ProtocolError::kBodyTooLarge,
            absl::StrCat("decoded request body exceeds ",
                         max_decoded_body_bytes, " bytes")};
      }
      return ProtocolErrorDetail{
          ProtocolError::kCorruptBody,
          absl::StrCat("cannot decode ", Sv(base::CodecName(codec)),
                       " request body: ", decoded.status().message())};
    }
    request.body = *std::move(decoded);
  } else if (request.body.size() > max_decoded_body_bytes) {
    return ProtocolErrorDetail{ProtocolError::kBodyTooLarge,
                               absl::StrCat("request body exceeds ",
                                            max_decoded_body_bytes, " bytes")};
  }
  request.headers.Remove("Content-Encoding");

  if ((request.method == "POST" || request.method == "PUT" ||
       request.method == "PATCH") &&
      IsFormContentType(request.headers.Get("Content-Type"))) {
    auto form = ParseQueryString(request.body);
    if (!form.ok()) {
      return ProtocolErrorDetail{
          ProtocolError::kMalformed,
          absl::StrCat("invalid form body: ", form.status().message())};
    }
    request.params.Prepend(*std::move(form));
  }
  return std::nullopt;
}

}  // namespace pantau::net::internal
