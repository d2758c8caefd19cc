// The only translation unit that includes Boost.Beast (it compiles slowly).
#include "net/internal/http_parser.h"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <limits>
#include <new>
#include <stdexcept>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace pantau::net::internal {

using base::Sv;

namespace http = boost::beast::http;

namespace {

// Beast 1.74 compares Content-Length against an unset (boost::none) body
// limit as if the limit were smaller than any length, so "no limit" is
// expressed as the largest value instead.
constexpr uint64_t kNoLimit = std::numeric_limits<uint64_t>::max();

uint32_t ClampHeaderLimit(size_t n) {
  return n > std::numeric_limits<uint32_t>::max()
             ? std::numeric_limits<uint32_t>::max()
             : static_cast<uint32_t>(n);
}

ProtocolErrorDetail ErrorFromBeast(const boost::beast::error_code& ec) {
  if (ec == http::error::header_limit) {
    return {ProtocolError::kHeaderTooLarge, "request header too large"};
  }
  if (ec == http::error::body_limit) {
    return {ProtocolError::kBodyTooLarge, "request body too large"};
  }
  return {ProtocolError::kMalformed,
          absl::StrCat("malformed HTTP request: ", ec.message())};
}

template <typename Parser>
size_t PutAll(Parser& parser, std::string_view data, bool stop_after_header,
              boost::beast::error_code& ec) {
  size_t total = 0;
  while (!parser.is_done()) {
    if (stop_after_header && parser.is_header_done()) break;
    if (total == data.size()) break;
    size_t n = parser.put(
        boost::asio::const_buffer(data.data() + total, data.size() - total),
        ec);
    total += n;
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) break;
    if (n == 0) break;
  }
  return total;
}

}  // namespace

struct RequestReader::Impl {
  http::request_parser<http::string_body> parser;
};

RequestReader::RequestReader(size_t max_header_bytes)
    : impl_(std::make_unique<Impl>()) {
  impl_->parser.header_limit(ClampHeaderLimit(max_header_bytes));
  impl_->parser.body_limit(kNoLimit);
  impl_->parser.eager(false);
}

RequestReader::~RequestReader() = default;

size_t RequestReader::Feed(std::string_view data) {
  if (error_ || done()) return 0;
  boost::beast::error_code ec;
  size_t n = 0;
  try {
    n = PutAll(impl_->parser, data, !body_limit_set_, ec);
  } catch (const std::bad_alloc&) {
    error_ = {ProtocolError::kBodyTooLarge, "request body too large"};
    return n;
  } catch (const std::exception& e) {
    error_ = {ProtocolError::kMalformed,
              absl::StrCat("malformed HTTP request: ", e.what())};
    return n;
  }
  if (ec) error_ = ErrorFromBeast(ec);
  return n;
}

bool RequestReader::header_done() const {
  return impl_->parser.is_header_done();
}
bool RequestReader::done() const { return impl_->parser.is_done(); }

std::string_view RequestReader::method() const {
  auto m = impl_->parser.get().method_string();
  return std::string_view(m.data(), m.size());
}

std::string_view RequestReader::target() const {
  auto t = impl_->parser.get().target();
  return std::string_view(t.data(), t.size());
}

std::string_view RequestReader::header(std::string_view name) const {
  const auto& msg = impl_->parser.get();
  auto it = msg.find(boost::beast::string_view(name.data(), name.size()));
  if (it == msg.end()) return {};
  auto v = it->value();
  return std::string_view(v.data(), v.size());
}

std::optional<uint64_t> RequestReader::content_length() const {
  auto cl = impl_->parser.content_length();
  if (!cl) return std::nullopt;
  return *cl;
}

bool RequestReader::expects_continue() const {
  return impl_->parser.get().version() >= 11 &&
         absl::EqualsIgnoreCase(Sv(header("Expect")), "100-continue");
}

bool RequestReader::keep_alive() const {
  return impl_->parser.get().keep_alive();
}

void RequestReader::SetBodyLimit(size_t max_body_bytes) {
  if (body_limit_set_) return;
  body_limit_set_ = true;
  auto cl = impl_->parser.content_length();
  if (cl && *cl > max_body_bytes) {
    error_ = {ProtocolError::kBodyTooLarge,
              absl::StrCat("request body too large: ", *cl, " bytes, limit ",
                           max_body_bytes)};
    return;
  }
  if (!impl_->parser.is_done()) {
    impl_->parser.body_limit(static_cast<uint64_t>(max_body_bytes));
    impl_->parser.eager(true);
  }
}

HttpRequest RequestReader::TakeRequest() {
  auto msg = impl_->parser.release();
  HttpRequest req;
  auto m = msg.method_string();
  req.method.assign(m.data(), m.size());
  auto t = msg.target();
  req.target.assign(t.data(), t.size());
  req.version = static_cast<int>(msg.version());
  for (const auto& field : msg) {
    auto name = field.name_string();
    auto value = field.value();
    req.headers.Add(std::string(name.data(), name.size()),
                    std::string(value.data(), value.size()));
  }
  req.body = std::move(msg.body());
  return req;
}

struct ResponseReader::Impl {
  http::response_parser<http::string_body> parser;
  size_t max_body_bytes = 0;
  bool header_checked = false;
};

ResponseReader::ResponseReader(size_t max_header_bytes, size_t max_body_bytes,
                               bool head_request)
    : impl_(std::make_unique<Impl>()) {
  impl_->parser.header_limit(ClampHeaderLimit(max_header_bytes));
  // Beast 1.74 does not reliably reject a Content-Length over the body
  // limit when the header completes, so Feed checks it itself before any
  // body byte is taken; the limit set here covers chunked and
  // read-until-EOF bodies.
  impl_->parser.body_limit(static_cast<uint64_t>(max_body_bytes));
  impl_->parser.eager(false);
  impl_->parser.skip(head_request);
  impl_->max_body_bytes = max_body_bytes;
}

ResponseReader::~ResponseReader() = default;

size_t ResponseReader::Feed(std::string_view data) {
  if (!status_.ok() || done()) return 0;
  if (!data.empty()) started_ = true;
  boost::beast::error_code ec;
  size_t n = 0;
  try {
    n = PutAll(impl_->parser, data, !impl_->header_checked, ec);
    if (!ec && !impl_->header_checked && impl_->parser.is_header_done()) {
      impl_->header_checked = true;
      auto cl = impl_->parser.content_length();
      if (cl && *cl > impl_->max_body_bytes && !impl_->parser.is_done()) {
        status_ = absl::ResourceExhaustedError(
            absl::StrCat("HTTP response too large: Content-Length ", *cl,
                         " exceeds the limit of ", impl_->max_body_bytes));
        return n;
      }
      impl_->parser.eager(true);
      n += PutAll(impl_->parser, data.substr(n), false, ec);
    }
  } catch (const std::exception& e) {
    status_ = absl::ResourceExhaustedError(
        absl::StrCat("HTTP response too large: ", e.what()));
    return n;
  }
  if (ec == http::error::header_limit || ec == http::error::body_limit) {
    status_ = absl::ResourceExhaustedError(
        absl::StrCat("HTTP response too large: ", ec.message()));
  } else if (ec) {
    status_ = absl::InvalidArgumentError(
        absl::StrCat("malformed HTTP response: ", ec.message()));
  }
  return n;
}

void ResponseReader::FeedEof() {
  if (!status_.ok() || done()) return;
  boost::beast::error_code ec;
  impl_->parser.put_eof(ec);
  if (ec) {
    status_ = absl::UnavailableError(
        started_
            ? absl::StrCat("connection closed mid-response: ", ec.message())
            : std::string("connection closed before a response"));
  }
}

bool ResponseReader::done() const { return impl_->parser.is_done(); }

ParsedResponse ResponseReader::TakeResponse() {
  ParsedResponse out;
  out.keep_alive = impl_->parser.get().keep_alive();
  auto msg = impl_->parser.release();
  out.status = static_cast<int>(msg.result_int());
  out.version = static_cast<int>(msg.version());
  for (const auto& field : msg) {
    auto name = field.name_string();
    auto value = field.value();
    out.headers.Add(std::string(name.data(), name.size()),
                    std::string(value.data(), value.size()));
  }
  out.body = std::move(msg.body());
  return out;
}

}  // namespace pantau::net::internal
