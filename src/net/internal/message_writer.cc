#include "net/internal/message_writer.h"

#include "absl/strings/str_cat.h"
#include "base/compression.h"
#include "net/internal/strings.h"

namespace pantau::net::internal {

namespace {

bool BodyForbidden(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// Header names and values must not smuggle CR/LF into the response.
bool SafeHeader(const HttpHeaders::Field& f) {
  return !f.first.empty() &&
         f.first.find_first_of("\r\n: ") == std::string::npos &&
         f.second.find_first_of("\r\n") == std::string::npos;
}

void AppendStatusLine(std::string* out, int status) {
  absl::StrAppend(out, "HTTP/1.1 ", status, " ", Sv(HttpReasonPhrase(status)),
                  "\r\n");
}

}  // namespace

std::string HttpDate(absl::Time t) {
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S GMT", t, absl::UTCTimeZone());
}

void CompressResponse(HttpResponse& response, const ResponseContext& ctx) {
  if (BodyForbidden(response.status) || ctx.head || !response.compressible ||
      ctx.gzip_min_bytes == 0 || response.body.size() < ctx.gzip_min_bytes ||
      response.headers.Has("Content-Encoding")) {
    return;
  }
  // Caches must not hand a gzipped variant to a client that cannot read
  // it, or the other way round.
  response.headers.Set("Vary", "Accept-Encoding");
  if (!ctx.accept_gzip) return;
  auto gz = base::Compress(base::Codec::kGzip, response.body, ctx.gzip_level);
  if (gz.ok() && gz->size() < response.body.size()) {
    response.body = *std::move(gz);
    response.headers.Set("Content-Encoding", "gzip");
  }
}

std::string SerializeResponseHead(HttpResponse& response,
                                  const ResponseContext& ctx) {
  if (response.status < 100 || response.status > 999) response.status = 500;
  bool no_body = BodyForbidden(response.status);
  if (no_body) response.body.clear();
  std::string head;
  head.reserve(256);
  AppendStatusLine(&head, response.status);
  for (const auto& f : response.headers) {
    if (!SafeHeader(f)) continue;
    if (EqualsIgnoreCase(f.first, "Content-Length") ||
        EqualsIgnoreCase(f.first, "Connection") ||
        EqualsIgnoreCase(f.first, "Transfer-Encoding") ||
        EqualsIgnoreCase(f.first, "Date")) {
      continue;  // the server owns framing
    }
    absl::StrAppend(&head, f.first, ": ", f.second, "\r\n");
  }
  absl::StrAppend(&head, "Date: ", HttpDate(ctx.now), "\r\n");
  if (!no_body) {
    absl::StrAppend(&head, "Content-Length: ", response.body.size(), "\r\n");
  }
  if (ctx.close) {
    head.append("Connection: close\r\n");
  } else if (ctx.http10_keep_alive) {
    head.append("Connection: keep-alive\r\n");
  }
  head.append("\r\n");
  if (ctx.head) response.body.clear();
  return head;
}

std::string FinishResponse(HttpResponse& response, const ResponseContext& ctx) {
  CompressResponse(response, ctx);
  return SerializeResponseHead(response, ctx);
}

std::string SerializeErrorResponse(int status, std::string_view message,
                                   absl::Time now) {
  std::string out;
  AppendStatusLine(&out, status);
  absl::StrAppend(&out,
                  "Content-Type: text/plain; charset=utf-8\r\n"
                  "X-Content-Type-Options: nosniff\r\n"
                  "Date: ",
                  HttpDate(now),
                  "\r\n"
                  "Content-Length: ",
                  message.size() + 1,
                  "\r\n"
                  "Connection: close\r\n\r\n",
                  Sv(message), "\n");
  return out;
}

std::string SerializeRequestHead(std::string_view method,
                                 std::string_view target,
                                 std::string_view host_header,
                                 const HttpHeaders& headers, size_t body_size) {
  std::string head;
  head.reserve(256);
  absl::StrAppend(&head, Sv(method), " ", Sv(target), " HTTP/1.1\r\n");
  if (!headers.Has("Host"))
    absl::StrAppend(&head, "Host: ", Sv(host_header), "\r\n");
  for (const auto& f : headers) {
    if (!SafeHeader(f)) continue;
    if (EqualsIgnoreCase(f.first, "Content-Length") ||
        EqualsIgnoreCase(f.first, "Transfer-Encoding")) {
      continue;
    }
    absl::StrAppend(&head, f.first, ": ", f.second, "\r\n");
  }
  if (body_size > 0 || method == "POST" || method == "PUT" ||
      method == "PATCH") {
    absl::StrAppend(&head, "Content-Length: ", body_size, "\r\n");
  }
  head.append("\r\n");
  return head;
}

}  // namespace pantau::net::internal
