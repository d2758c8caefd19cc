// Small string helpers for the scrape and ingest modules; Sv() and StdSv()
// (bridging std:: and absl::string_view) come from base/strings.h.
//
// Thread safety: pure functions.
#ifndef PANTAU_METRICS_SCRAPE_STRINGS_H_
#define PANTAU_METRICS_SCRAPE_STRINGS_H_

#include <string_view>

#include "base/strings.h"

namespace pantau::metrics::scrape {

using base::StdSv;
using base::Sv;

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
