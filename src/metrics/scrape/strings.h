// Small string helpers for the scrape and ingest modules. Debian's Abseil
// is built with its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW
// is 0), so std::string_view does not convert implicitly; Sv() bridges the
// two without a copy.
//
// Thread safety: pure functions.
#ifndef PANTAU_METRICS_SCRAPE_STRINGS_H_
#define PANTAU_METRICS_SCRAPE_STRINGS_H_

#include <string_view>

#include "absl/strings/string_view.h"

namespace pantau::metrics::scrape {

inline absl::string_view Sv(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view StdSv(absl::string_view s) {
  return std::string_view(s.data(), s.size());
}

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace pantau::metrics::scrape

#endif  // PANTAU_METRICS_SCRAPE_STRINGS_H_
