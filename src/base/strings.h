// Bridges between std::string_view and absl::string_view. Debian's Abseil
// (20220623) is built with ABSL_OPTION_USE_STD_STRING_VIEW=0, so the two
// are distinct types and absl::StrCat, absl::StrSplit and friends do not
// accept a std::string_view directly: wrap it with Sv().
//
//   absl::StrCat("bad label \"", Sv(name), "\"")
//
// Thread safety: pure functions.
#ifndef PANTAU_BASE_STRINGS_H_
#define PANTAU_BASE_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace pantau::base {

inline absl::string_view Sv(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view StdSv(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace pantau::base

#endif  // PANTAU_BASE_STRINGS_H_
