#include "net/http_headers.h"

#include <algorithm>

#include "net/internal/strings.h"

namespace pantau::net {

using internal::EqualsIgnoreCase;

std::string_view HttpHeaders::Get(std::string_view name,
                                  std::string_view fallback) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) return f.second;
  }
  return fallback;
}

bool HttpHeaders::Has(std::string_view name) const {
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) return true;
  }
  return false;
}

std::vector<std::string_view> HttpHeaders::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Field& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) out.push_back(f.second);
  }
  return out;
}

void HttpHeaders::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

void HttpHeaders::Set(std::string_view name, std::string value) {
  for (auto it = fields_.begin(); it != fields_.end(); ++it) {
    if (EqualsIgnoreCase(it->first, name)) {
      it->second = std::move(value);
      // Drop any later duplicates so exactly one field remains.
      auto rest = std::remove_if(it + 1, fields_.end(), [&](const Field& f) {
        return EqualsIgnoreCase(f.first, name);
      });
      fields_.erase(rest, fields_.end());
      return;
    }
  }
  fields_.emplace_back(std::string(name), std::move(value));
}

size_t HttpHeaders::Remove(std::string_view name) {
  auto rest = std::remove_if(
      fields_.begin(), fields_.end(),
      [&](const Field& f) { return EqualsIgnoreCase(f.first, name); });
  size_t n = static_cast<size_t>(fields_.end() - rest);
  fields_.erase(rest, fields_.end());
  return n;
}

bool HeaderListHasToken(std::string_view list, std::string_view token) {
  for (std::string_view item : internal::Split(list, ',')) {
    std::vector<std::string_view> parts = internal::Split(item, ';');
    if (!EqualsIgnoreCase(internal::TrimAscii(parts[0]), token)) continue;
    bool zero_q = false;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view p = internal::TrimAscii(parts[i]);
      if (internal::StartsWithIgnoreCase(p, "q=")) {
        std::string_view q = p.substr(2);
        // "0", "0.", "0.0", "0.000" all mean "not acceptable".
        zero_q = !q.empty() && q.find_first_not_of("0.") == q.npos;
      }
    }
    if (!zero_q) return true;
  }
  return false;
}

}  // namespace pantau::net
