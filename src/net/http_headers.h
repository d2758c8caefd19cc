// HttpHeaders: an ordered list of HTTP header fields with case-insensitive
// name lookup, used by requests, responses and the client alike.
//
// Field order and repeated fields are kept as they arrived, so a handler or
// proxy can see exactly what was sent; lookups compare names without regard
// to ASCII case (RFC 9110 5.1).
//
// Thread safety: a value type; concurrent const access is safe.
#ifndef PANTAU_NET_HTTP_HEADERS_H_
#define PANTAU_NET_HTTP_HEADERS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pantau::net {

class HttpHeaders {
 public:
  using Field = std::pair<std::string, std::string>;
  using const_iterator = std::vector<Field>::const_iterator;

  HttpHeaders() = default;
  HttpHeaders(std::initializer_list<Field> fields) : fields_(fields) {}

  // The value of the first field named `name`, or `fallback` when there is
  // none. The view is valid until the headers are modified.
  std::string_view Get(std::string_view name,
                       std::string_view fallback = "") const;
  bool Has(std::string_view name) const;
  // Every value of `name` in arrival order.
  std::vector<std::string_view> GetAll(std::string_view name) const;

  // Appends a field, keeping any existing ones of the same name.
  void Add(std::string name, std::string value);
  // Replaces every field named `name` with one field (appended if absent).
  void Set(std::string_view name, std::string value);
  // Removes every field named `name`; returns how many were removed.
  size_t Remove(std::string_view name);
  void Clear() { fields_.clear(); }

  size_t size() const { return fields_.size(); }
  bool empty() const { return fields_.empty(); }
  const_iterator begin() const { return fields_.begin(); }
  const_iterator end() const { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

// True when `list` (a comma-separated header value such as Accept-Encoding
// or Connection) contains `token`, compared case-insensitively. A token
// given with "q=0" counts as absent.
bool HeaderListHasToken(std::string_view list, std::string_view token);

}  // namespace pantau::net

#endif  // PANTAU_NET_HTTP_HEADERS_H_
