#include "net/url.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "net/internal/strings.h"

namespace pantau::net {

using internal::Sv;

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<uint16_t> ParsePort(std::string_view s) {
  uint32_t port = 0;
  if (s.empty() || s.size() > 5 ||
      s.find_first_not_of("0123456789") != std::string_view::npos ||
      !absl::SimpleAtoi(Sv(s), &port) || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid port \"", Sv(s), "\""));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

absl::StatusOr<std::string> PercentDecode(std::string_view s,
                                          bool plus_as_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 2 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid percent-encoding in \"", Sv(s), "\""));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s, bool space_as_plus) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
        c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ' && space_as_plus) {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>>
ParseQueryString(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string_view piece : internal::Split(query, '&')) {
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view name = piece.substr(0, eq);
    std::string_view value = eq == std::string_view::npos
                                 ? std::string_view()
                                 : piece.substr(eq + 1);
    auto n = PercentDecode(name, true);
    if (!n.ok()) return n.status();
    auto v = PercentDecode(value, true);
    if (!v.ok()) return v.status();
    out.emplace_back(*std::move(n), *std::move(v));
  }
  return out;
}

std::string EncodeQueryString(
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, PercentEncode(name, true), "=",
                    PercentEncode(value, true));
  }
  return out;
}

absl::StatusOr<HostPort> ParseHostPort(std::string_view address) {
  HostPort hp;
  std::string_view port;
  if ((!address.empty() && address[0] == '[')) {
    size_t close = address.find(']');
    if (close == std::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':') {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid address \"", Sv(address), "\": want [host]:port"));
    }
    hp.host = std::string(address.substr(1, close - 1));
    port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string_view::npos ||
        address.substr(0, colon).find(':') != std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid address \"", Sv(address), "\": want host:port"));
    }
    hp.host = std::string(address.substr(0, colon));
    port = address.substr(colon + 1);
  }
  auto p = ParsePort(port);
  if (!p.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid address \"", Sv(address), "\": ", p.status().message()));
  }
  hp.port = *p;
  return hp;
}

std::string Url::HostHeader() const {
  bool v6 = host.find(':') != std::string::npos;
  std::string out = absl::StrCat(v6 ? "[" : "", host, v6 ? "]" : "");
  if (port != 80) absl::StrAppend(&out, ":", port);
  return out;
}

absl::StatusOr<Url> ParseUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL \"", Sv(url), "\": no scheme"));
  }
  Url out;
  out.scheme = absl::AsciiStrToLower(Sv(url.substr(0, sep)));
  if (out.scheme == "https") {
    return absl::UnimplementedError(
        absl::StrCat("https is not supported yet by the pantau HTTP client: \"",
                     Sv(url), "\""));
  }
  if (out.scheme != "http") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported URL scheme \"", out.scheme, "\""));
  }
  std::string_view rest = url.substr(sep + 3);
  size_t path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? "" : rest.substr(path_start);
  if (size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  if (authority.find('@') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL \"", Sv(url),
                     "\": credentials in URLs are not supported"));
  }
  if (authority.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL \"", Sv(url), "\": no host"));
  }
  bool has_port = (!authority.empty() && authority[0] == '[')
                      ? authority.find("]:") != std::string_view::npos
                      : authority.find(':') != std::string_view::npos;
  if (has_port) {
    auto hp = ParseHostPort(authority);
    if (!hp.ok()) return hp.status();
    out.host = hp->host;
    out.port = hp->port;
  } else if ((!authority.empty() && authority[0] == '[') &&
             authority.back() == ']') {
    out.host = std::string(authority.substr(1, authority.size() - 2));
  } else {
    out.host = std::string(authority);
  }
  if (out.host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid URL \"", Sv(url), "\": no host"));
  }
  out.target = std::string(target);
  if (out.target.empty() || out.target[0] == '?') out.target.insert(0, "/");
  return out;
}

}  // namespace pantau::net
