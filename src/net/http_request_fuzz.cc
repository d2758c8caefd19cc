// Fuzzes the server's request path: bytes arrive in chunks as from a
// socket, go through the Beast-backed RequestReader with the server's
// limits, the header check (route lookup, Content-Encoding, body limit),
// then PrepareRequest (path, query, form, body decompression) and the
// router — the same steps internal/connection.cc takes, pipelining
// included.
//
// Input: the first byte picks the chunk size (0 = everything at once);
// the rest is the byte stream a client would send.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/internal/http_parser.h"
#include "net/internal/request_prep.h"
#include "net/router.h"

namespace {

using pantau::net::HttpRequest;
using pantau::net::HttpResponse;
using pantau::net::RequestContext;
using pantau::net::Router;

constexpr size_t kMaxHeaderBytes = 4096;
constexpr size_t kMaxBodyBytes = 16384;
constexpr size_t kMaxDecodedBodyBytes = 1 << 16;
constexpr int kMaxRequests = 16;

const Router& TheRouter() {
  static const Router* router = [] {
    auto* r = new Router();
    auto ok = [](const HttpRequest& req, RequestContext&) {
      return HttpResponse::Text(200, std::string(req.PathParam("name")));
    };
    (void)r->Handle({"GET", "POST"}, "/api/v1/query", ok);
    (void)r->Handle("GET", "/api/v1/label/:name/values", ok);
    (void)r->Handle("POST", "/api/v1/write", ok);
    (void)r->Handle("GET", "/ui/*path", ok);
    return r;
  }();
  return *router;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = data[0] == 0 ? size : data[0];
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Router& router = TheRouter();

  std::string buffered;
  size_t pos = 0;
  auto reader =
      std::make_unique<pantau::net::internal::RequestReader>(kMaxHeaderBytes);
  bool header_handled = false;
  Router::Match match;
  for (int requests = 0; requests < kMaxRequests;) {
    if (pos < input.size()) {
      buffered.append(input.substr(pos, chunk));
      pos += chunk;
    }
    buffered.erase(0, reader->Feed(buffered));
    if (!reader->error() && reader->header_done() && !header_handled) {
      header_handled = true;
      match =
          router.Find(reader->method(),
                      pantau::net::internal::RawPathOfTarget(reader->target()));
      if (pantau::net::internal::CheckRequestHeader(*reader, kMaxBodyBytes)) {
        break;
      }
      buffered.erase(0, reader->Feed(buffered));
    }
    if (reader->error()) break;
    if (reader->done()) {
      ++requests;
      HttpRequest request = reader->TakeRequest();
      if (!pantau::net::internal::PrepareRequest(request,
                                                 kMaxDecodedBodyBytes)) {
        RequestContext ctx;
        HttpResponse response = router.Serve(match, request, ctx);
        (void)response;
      }
      reader = std::make_unique<pantau::net::internal::RequestReader>(
          kMaxHeaderBytes);
      header_handled = false;
      continue;
    }
    if (pos >= input.size()) break;  // the client sent nothing more
  }
  return 0;
}
