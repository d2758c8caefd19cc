// W3C Trace Context parsing and formatting. The rules follow the
// specification's grammar (https://www.w3.org/TR/trace-context/) and its
// test suite's valid/invalid cases.
#include "pantau/sdk/propagation.h"

#include <algorithm>

namespace pantau::sdk {
namespace {

bool IsLowerHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int LowerHexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

// Decodes `n` lowercase hex digits into n/2 bytes.
bool DecodeLowerHex(std::string_view s, uint8_t* out) {
  for (size_t i = 0; i < s.size(); i += 2) {
    if (!IsLowerHex(s[i]) || !IsLowerHex(s[i + 1])) return false;
    out[i / 2] = static_cast<uint8_t>(LowerHexValue(s[i]) << 4 |
                                      LowerHexValue(s[i + 1]));
  }
  return true;
}

// Tracestate keys: lcalpha 0*255(lcalpha / DIGIT / "_" / "-"/ "*" / "/"),
// or tenant@system with tenant (lcalpha / DIGIT) 0*240(...) and system
// lcalpha 0*13(...).
bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '*' || c == '/';
}

bool ValidTracestateKey(std::string_view key) {
  size_t at = key.find('@');
  if (at == std::string_view::npos) {
    if (key.empty() || key.size() > 256) return false;
    if (!(key[0] >= 'a' && key[0] <= 'z')) return false;
    return std::all_of(key.begin(), key.end(), IsKeyChar);
  }
  std::string_view tenant = key.substr(0, at);
  std::string_view system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241) return false;
  if (system.empty() || system.size() > 14) return false;
  if (!((tenant[0] >= 'a' && tenant[0] <= 'z') ||
        (tenant[0] >= '0' && tenant[0] <= '9'))) {
    return false;
  }
  if (!(system[0] >= 'a' && system[0] <= 'z')) return false;
  return std::all_of(tenant.begin(), tenant.end(), IsKeyChar) &&
         std::all_of(system.begin(), system.end(), IsKeyChar);
}

// Values: 0*255(chr) nblk-chr, chr = %x20 / nblk-chr,
// nblk-chr = %x21-2B / %x2D-3C / %x3E-7E.
bool ValidTracestateValue(std::string_view v) {
  if (v.empty() || v.size() > 256 || v.back() == ' ') return false;
  for (char c : v) {
    if (c < 0x20 || c > 0x7e || c == ',' || c == '=') return false;
  }
  return true;
}

}  // namespace

std::vector<std::string_view> PairCarrier::GetAll(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : pairs_) {
    if (EqualsIgnoreCase(k, name)) out.push_back(v);
  }
  return out;
}

void PairCarrier::Set(std::string_view name, std::string value) {
  std::erase_if(pairs_,
                [&](const auto& p) { return EqualsIgnoreCase(p.first, name); });
  pairs_.emplace_back(std::string(name), std::move(value));
}

std::optional<SpanContext> ParseTraceparent(std::string_view value) {
  value = TrimOws(value);
  // version(2) - trace-id(32) - parent-id(16) - flags(2) = 55 chars.
  constexpr size_t kLen = 55;
  if (value.size() < kLen) return std::nullopt;
  if (!IsLowerHex(value[0]) || !IsLowerHex(value[1])) return std::nullopt;
  if (value[0] == 'f' && value[1] == 'f') return std::nullopt;
  bool v00 = value[0] == '0' && value[1] == '0';
  if (v00 ? value.size() != kLen : value.size() > kLen && value[kLen] != '-') {
    return std::nullopt;
  }
  if (value[2] != '-' || value[35] != '-' || value[52] != '-') {
    return std::nullopt;
  }
  SpanContext ctx;
  uint8_t flags = 0;
  if (!DecodeLowerHex(value.substr(3, 32), ctx.trace_id.bytes.data()) ||
      !DecodeLowerHex(value.substr(36, 16), ctx.span_id.bytes.data()) ||
      !DecodeLowerHex(value.substr(53, 2), &flags)) {
    return std::nullopt;
  }
  if (!ctx.IsValid()) return std::nullopt;
  // Only the sampled bit is defined for version 00; others are not
  // propagated.
  ctx.trace_flags = flags & kTraceFlagSampled;
  ctx.is_remote = true;
  return ctx;
}

std::string FormatTraceparent(const SpanContext& context) {
  std::string out = "00-";
  out += context.trace_id.ToHex();
  out += '-';
  out += context.span_id.ToHex();
  out += context.IsSampled() ? "-01" : "-00";
  return out;
}

std::optional<std::string> ParseTracestate(
    const std::vector<std::string_view>& values) {
  std::string out;
  std::vector<std::string_view> keys;
  for (std::string_view value : values) {
    while (true) {
      size_t comma = value.find(',');
      std::string_view member = TrimOws(value.substr(0, comma));
      if (!member.empty()) {
        size_t eq = member.find('=');
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view key = member.substr(0, eq);
        std::string_view val = member.substr(eq + 1);
        if (!ValidTracestateKey(key) || !ValidTracestateValue(val)) {
          return std::nullopt;
        }
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
          return std::nullopt;
        }
        keys.push_back(key);
        if (keys.size() > 32) return std::nullopt;
        if (!out.empty()) out += ',';
        out.append(member);
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return out;
}

std::optional<SpanContext> ExtractTraceContext(const TextMapCarrier& carrier) {
  std::vector<std::string_view> parents = carrier.GetAll(kTraceparentHeader);
  if (parents.size() != 1) return std::nullopt;
  std::optional<SpanContext> ctx = ParseTraceparent(parents[0]);
  if (!ctx) return std::nullopt;
  std::optional<std::string> state =
      ParseTracestate(carrier.GetAll(kTracestateHeader));
  if (state) ctx->trace_state = std::move(*state);
  return ctx;
}

void InjectTraceContext(const SpanContext& context, TextMapCarrier& carrier) {
  if (!context.IsValid()) return;
  carrier.Set(kTraceparentHeader, FormatTraceparent(context));
  if (!context.trace_state.empty()) {
    carrier.Set(kTracestateHeader, context.trace_state);
  }
}

}  // namespace pantau::sdk
