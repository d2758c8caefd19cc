// W3C Baggage (https://www.w3.org/TR/baggage/): list-members
// key=value;properties separated by ',', keys are HTTP tokens, values
// percent-encoded.
#include <algorithm>

#include "pantau/sdk/propagation.h"

namespace pantau::sdk {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
      (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
}

// baggage-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E: printable
// ASCII except space, '"', ',', ';' and '\'.
bool IsBaggageOctet(char c) {
  return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
         c != '\\';
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> DecodeValue(std::string_view v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '%') {
      if (i + 2 >= v.size()) return std::nullopt;
      int hi = HexValue(v[i + 1]), lo = HexValue(v[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi << 4 | lo));
      i += 2;
    } else if (IsBaggageOctet(c)) {
      out.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

void EncodeValue(std::string_view v, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : v) {
    if (IsBaggageOctet(static_cast<char>(c)) && c != '%') {
      out->push_back(static_cast<char>(c));
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 0xf]);
    }
  }
}

}  // namespace

Baggage Baggage::Parse(const std::vector<std::string_view>& values) {
  Baggage b;
  size_t bytes = 0;
  for (std::string_view value : values) {
    bytes += value.size();
    if (bytes > kMaxBytes) break;
    while (true) {
      size_t comma = value.find(',');
      std::string_view member = TrimOws(value.substr(0, comma));
      if (!member.empty() && b.entries_.size() < kMaxEntries) {
        size_t semi = member.find(';');
        std::string_view kv = member.substr(0, semi);
        std::string_view meta = semi == std::string_view::npos
                                    ? std::string_view()
                                    : TrimOws(member.substr(semi + 1));
        size_t eq = kv.find('=');
        if (eq != std::string_view::npos) {
          std::string_view key = TrimOws(kv.substr(0, eq));
          auto decoded = DecodeValue(TrimOws(kv.substr(eq + 1)));
          if (IsToken(key) && decoded) {
            b.Set(std::string(key), std::move(*decoded), std::string(meta));
          }
        }
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return b;
}

std::optional<std::string_view> Baggage::Get(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return e.value;
  }
  return std::nullopt;
}

bool Baggage::Set(std::string key, std::string value, std::string metadata) {
  if (!IsToken(key)) return false;
  for (Entry& e : entries_) {
    if (e.key == key) {
      e.value = std::move(value);
      e.metadata = std::move(metadata);
      return true;
    }
  }
  entries_.push_back({std::move(key), std::move(value), std::move(metadata)});
  return true;
}

void Baggage::Remove(std::string_view key) {
  std::erase_if(entries_, [&](const Entry& e) { return e.key == key; });
}

std::string Baggage::ToHeader() const {
  std::string out;
  size_t count = 0;
  for (const Entry& e : entries_) {
    std::string member = e.key + "=";
    EncodeValue(e.value, &member);
    if (!e.metadata.empty()) member += ";" + e.metadata;
    size_t extra = member.size() + (out.empty() ? 0 : 1);
    if (out.size() + extra > kMaxBytes || count == kMaxEntries) continue;
    if (!out.empty()) out += ',';
    out += member;
    ++count;
  }
  return out;
}

Baggage ExtractBaggage(const TextMapCarrier& carrier) {
  return Baggage::Parse(carrier.GetAll(kBaggageHeader));
}

void InjectBaggage(const Baggage& baggage, TextMapCarrier& carrier) {
  std::string header = baggage.ToHeader();
  if (!header.empty()) carrier.Set(kBaggageHeader, std::move(header));
}

}  // namespace pantau::sdk
