// Small std::string_view helpers. Debian's Abseil has its own string_view
// type, so absl's string functions do not take std::string_view; these
// cover what pantau::net needs without wrapping every call.
//
// Internal to pantau::net. Thread safety: pure functions.
#ifndef PANTAU_NET_INTERNAL_STRINGS_H_
#define PANTAU_NET_INTERNAL_STRINGS_H_

#include <string_view>
#include <vector>

#include "base/strings.h"

namespace pantau::net::internal {

using base::Sv;

inline char AsciiLower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

inline bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() &&
         EqualsIgnoreCase(s.substr(0, prefix.size()), prefix);
}

inline std::string_view TrimAscii(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// "a,b,,c" → {"a", "b", "", "c"}; "" → {""}.
inline std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

}  // namespace pantau::net::internal

#endif  // PANTAU_NET_INTERNAL_STRINGS_H_
