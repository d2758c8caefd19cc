// HttpRequest: a parsed, decoded HTTP request as handlers see it.
//
// By the time a handler runs, the server has percent-decoded the path,
// parsed the query string and any application/x-www-form-urlencoded POST
// body into `params`, undone the Content-Encoding of the body and matched
// the route. Handlers therefore never deal with wire details.
//
// Thread safety: a value type; concurrent const access is safe.
#ifndef PANTAU_NET_HTTP_REQUEST_H_
#define PANTAU_NET_HTTP_REQUEST_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_headers.h"

namespace pantau::net {

// Ordered, multi-valued name/value pairs: query and form parameters (as
// Prometheus's repeated `match[]`) and route path parameters.
class Params {
 public:
  using Entry = std::pair<std::string, std::string>;
  using const_iterator = std::vector<Entry>::const_iterator;

  Params() = default;
  Params(std::initializer_list<Entry> entries) : entries_(entries) {}

  // The first value of `name`, or `fallback` when absent. Like Go's
  // FormValue, so a form-body value wins over a query value of the same name.
  std::string_view Get(std::string_view name,
                       std::string_view fallback = "") const;
  bool Has(std::string_view name) const;
  std::vector<std::string_view> GetAll(std::string_view name) const;

  void Add(std::string name, std::string value);
  // Inserts `other`'s entries before this one's (form values come first).
  void Prepend(std::vector<Entry> other);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }

 private:
  std::vector<Entry> entries_;
};

struct HttpRequest {
  // As sent, e.g. "GET", "POST" (HTTP methods are case-sensitive).
  std::string method;
  // The raw request-target, e.g. "/api/v1/query?query=up".
  std::string target;
  // The percent-decoded path without the query, e.g. "/api/v1/query".
  std::string path;
  // The raw (still encoded) query string after '?', without the '?'.
  std::string raw_query;
  // Query parameters, and for POST/PUT/PATCH with Content-Type
  // application/x-www-form-urlencoded also the form body's, which come
  // first so Get() prefers them (as Prometheus does via Go's FormValue).
  Params params;
  // Header fields as received, except that Content-Encoding is removed once
  // the body has been decoded (so the headers describe `body`).
  HttpHeaders headers;
  // The body after undoing Content-Encoding (gzip, deflate, snappy, zstd).
  std::string body;
  // The peer as "ip:port" ("[v6]:port" for IPv6).
  std::string remote_address;
  // HTTP version as 10 or 11.
  int version = 11;

  // Filled in by the router: the pattern that matched, e.g.
  // "/api/v1/label/:name/values" (empty when no route matched; use it as
  // the `handler` label in metrics), and the values of its :params and
  // *catch-all, percent-decoded.
  std::string route;
  Params path_params;

  // Shorthands.
  std::string_view Param(std::string_view name,
                         std::string_view fallback = "") const {
    return params.Get(name, fallback);
  }
  std::string_view PathParam(std::string_view name) const {
    return path_params.Get(name);
  }
  std::string_view Header(std::string_view name) const {
    return headers.Get(name);
  }
};

}  // namespace pantau::net

#endif  // PANTAU_NET_HTTP_REQUEST_H_
