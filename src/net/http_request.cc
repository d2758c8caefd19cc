#include "net/http_request.h"

#include <iterator>

namespace pantau::net {

std::string_view Params::Get(std::string_view name,
                             std::string_view fallback) const {
  for (const Entry& e : entries_) {
    if (e.first == name) return e.second;
  }
  return fallback;
}

bool Params::Has(std::string_view name) const {
  for (const Entry& e : entries_) {
    if (e.first == name) return true;
  }
  return false;
}

std::vector<std::string_view> Params::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Entry& e : entries_) {
    if (e.first == name) out.push_back(e.second);
  }
  return out;
}

void Params::Add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

void Params::Prepend(std::vector<Entry> other) {
  other.insert(other.end(), std::make_move_iterator(entries_.begin()),
               std::make_move_iterator(entries_.end()));
  entries_ = std::move(other);
}

}  // namespace pantau::net
