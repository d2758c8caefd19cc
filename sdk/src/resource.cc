#include "pantau/sdk/resource.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "pantau/sdk/semconv.h"

namespace pantau::sdk {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes; nullopt on a broken escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
    i += 2;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string ExecutableName() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "unknown" : p.filename().string();
}

}  // namespace

Resource::Resource(Attributes attributes)
    : attributes_(std::move(attributes)) {}

Attributes ParseResourceAttributes(std::string_view text) {
  Attributes out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view pair = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view()
                                           : text.substr(comma + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = Trim(pair.substr(0, eq));
    auto value = PercentDecode(Trim(pair.substr(eq + 1)));
    if (key.empty() || !value) continue;
    SetAttribute(&out, std::string(key), std::move(*value));
  }
  return out;
}

Resource Resource::Create(Attributes attributes) {
  Attributes base;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) {
    SetAttribute(&base, semconv::kHostName, std::string(host));
  }
  SetAttribute(&base, semconv::kProcessPid, static_cast<int64_t>(getpid()));
  SetAttribute(&base, semconv::kServiceName,
               "unknown_service:" + ExecutableName());
  SetAttribute(&base, semconv::kTelemetrySdkName, std::string("pantau"));
  SetAttribute(&base, semconv::kTelemetrySdkLanguage, std::string("cpp"));
  SetAttribute(&base, semconv::kTelemetrySdkVersion, std::string(kSdkVersion));
  Resource r(std::move(base));
  if (const char* env = std::getenv("OTEL_RESOURCE_ATTRIBUTES")) {
    r = r.Merge(Resource(ParseResourceAttributes(env)));
  }
  if (const char* env = std::getenv("OTEL_SERVICE_NAME"); env && *env) {
    r = r.Merge(Resource({{semconv::kServiceName, std::string(env)}}));
  }
  return r.Merge(Resource(std::move(attributes)));
}

Resource Resource::Merge(const Resource& other) const {
  Attributes merged = attributes_;
  for (const Attribute& a : other.attributes_) {
    SetAttribute(&merged, std::string(a.name()), a.value);
  }
  return Resource(std::move(merged));
}

std::string_view Resource::GetString(std::string_view key) const {
  const AttributeValue* v = FindAttribute(attributes_, key);
  if (v == nullptr) return {};
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return {};
}

}  // namespace pantau::sdk
