// absl::StrCat/StrAppend that also take std::string_view. Debian's Abseil
// keeps absl::string_view a distinct type (see base/strings.h), and this
// module passes std::string_view around a lot.
//
// Thread safety: pure functions.
#ifndef PANTAU_METRICS_PROMQL_STR_UTIL_H_
#define PANTAU_METRICS_PROMQL_STR_UTIL_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "base/strings.h"

namespace pantau::metrics::promql {

template <typename T>
decltype(auto) ToAbsl(const T& v) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return base::Sv(v);
  } else {
    return (v);
  }
}

template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(ToAbsl(args)...);
}

template <typename... Args>
void Append(std::string* out, const Args&... args) {
  absl::StrAppend(out, ToAbsl(args)...);
}

}  // namespace pantau::metrics::promql

#endif  // PANTAU_METRICS_PROMQL_STR_UTIL_H_
