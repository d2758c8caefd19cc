// Trace and span ids for new spans: a per-thread wyrand generator, inline
// so that Tracer::StartSpan makes its two or three 64-bit draws without
// calls (they are a third of an unsampled span's cost). Not cryptographic;
// W3C Trace Context asks for ids that are unique, not unpredictable.
//
// Thread safety: each thread has its own state.
#ifndef PANTAU_SDK_SRC_ID_GENERATOR_H_
#define PANTAU_SDK_SRC_ID_GENERATOR_H_

#include <cstdint>
#include <cstring>

#include "pantau/sdk/span_context.h"

namespace pantau::sdk::internal {

// 0 until the thread's first draw seeds it. initial-exec and a constant
// initialiser: a plain %fs-relative access with no init guard.
__attribute__((
    tls_model("initial-exec"))) inline thread_local uint64_t tls_rng_state = 0;

// A non-zero seed from std::random_device (out of line: once per thread).
uint64_t SeedRng();

// wyrand: one 64x64->128 multiply per draw.
inline uint64_t NextRandom() {
  uint64_t s = tls_rng_state;
  if (__builtin_expect(s == 0, 0)) s = SeedRng();
  s += 0xa0761d6478bd642fULL;
  tls_rng_state = s;
  unsigned __int128 t =
      static_cast<unsigned __int128>(s) * (s ^ 0xe7037ed1a0b428dbULL);
  return static_cast<uint64_t>(t >> 64) ^ static_cast<uint64_t>(t);
}

inline TraceId NewTraceId() {
  uint64_t a, b;
  do {
    a = NextRandom();
    b = NextRandom();
  } while ((a | b) == 0);
  TraceId id;
  std::memcpy(id.bytes.data(), &a, 8);
  std::memcpy(id.bytes.data() + 8, &b, 8);
  return id;
}

inline SpanId NewSpanId() {
  uint64_t a;
  do {
    a = NextRandom();
  } while (a == 0);
  SpanId id;
  std::memcpy(id.bytes.data(), &a, 8);
  return id;
}

}  // namespace pantau::sdk::internal

#endif  // PANTAU_SDK_SRC_ID_GENERATOR_H_
