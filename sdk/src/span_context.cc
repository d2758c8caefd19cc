#include "pantau/sdk/span_context.h"

#include <cstring>
#include <random>

#include "id_generator.h"

namespace pantau::sdk {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
std::string ToHexImpl(const std::array<uint8_t, N>& bytes) {
  std::string out(2 * N, '0');
  for (size_t i = 0; i < N; ++i) {
    out[2 * i] = kHexDigits[bytes[i] >> 4];
    out[2 * i + 1] = kHexDigits[bytes[i] & 0xf];
  }
  return out;
}

template <size_t N>
bool FromHexImpl(std::string_view hex, std::array<uint8_t, N>* out) {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    int hi = HexValue(hex[2 * i]);
    int lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

template <size_t N>
bool AllZero(const std::array<uint8_t, N>& bytes) {
  for (uint8_t b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace

namespace internal {

uint64_t SeedRng() {
  std::random_device rd;
  uint64_t s = 0;
  while (s == 0) s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  tls_rng_state = s;
  return s;
}

uint64_t RandomU64() { return NextRandom(); }

}  // namespace internal

bool TraceId::IsValid() const { return !AllZero(bytes); }
std::string TraceId::ToHex() const { return ToHexImpl(bytes); }
std::optional<TraceId> TraceId::FromHex(std::string_view hex) {
  TraceId id;
  if (!FromHexImpl(hex, &id.bytes)) return std::nullopt;
  return id;
}
TraceId TraceId::Random() { return internal::NewTraceId(); }

bool SpanId::IsValid() const { return !AllZero(bytes); }
std::string SpanId::ToHex() const { return ToHexImpl(bytes); }
std::optional<SpanId> SpanId::FromHex(std::string_view hex) {
  SpanId id;
  if (!FromHexImpl(hex, &id.bytes)) return std::nullopt;
  return id;
}
SpanId SpanId::Random() { return internal::NewSpanId(); }

}  // namespace pantau::sdk
