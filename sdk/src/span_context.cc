#include "pantau/sdk/span_context.h"

#include <cstring>
#include <random>

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

// Per-thread generator state; 0 means "not seeded yet". initial-exec TLS
// and a trivial initialiser keep each access a plain %fs-relative load,
// without the __tls_get_addr call and init guard that -fPIC code with a
// dynamically initialised thread_local would pay on every span.
__attribute__((tls_model("initial-exec"))) thread_local uint64_t rng_state = 0;

__attribute__((noinline)) uint64_t Seed() {
  std::random_device rd;
  uint64_t s = 0;
  while (s == 0) s = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  return s;
}

// splitmix64; inlined into the id makers below, which run once or twice
// per span.
inline uint64_t NextRandom() {
  uint64_t s = rng_state;
  if (__builtin_expect(s == 0, 0)) s = Seed();
  s += 0x9e3779b97f4a7c15ULL;
  rng_state = s;
  uint64_t z = s;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

namespace internal {
uint64_t RandomU64() { return NextRandom(); }
}  // namespace internal

bool TraceId::IsValid() const { return !AllZero(bytes); }
std::string TraceId::ToHex() const { return ToHexImpl(bytes); }
std::optional<TraceId> TraceId::FromHex(std::string_view hex) {
  TraceId id;
  if (!FromHexImpl(hex, &id.bytes)) return std::nullopt;
  return id;
}
TraceId TraceId::Random() {
  uint64_t a, b;
  do {
    a = NextRandom();
    b = NextRandom();
  } while (a == 0 && b == 0);
  TraceId id;
  std::memcpy(id.bytes.data(), &a, 8);
  std::memcpy(id.bytes.data() + 8, &b, 8);
  return id;
}

bool SpanId::IsValid() const { return !AllZero(bytes); }
std::string SpanId::ToHex() const { return ToHexImpl(bytes); }
std::optional<SpanId> SpanId::FromHex(std::string_view hex) {
  SpanId id;
  if (!FromHexImpl(hex, &id.bytes)) return std::nullopt;
  return id;
}
SpanId SpanId::Random() {
  uint64_t a;
  do {
    a = NextRandom();
  } while (a == 0);
  SpanId id;
  std::memcpy(id.bytes.data(), &a, 8);
  return id;
}

}  // namespace pantau::sdk
