// Fuzzes the outbox's header column codec: DecodeHeaders reads what a
// database row holds (written by any version, or by hand), so any bytes
// must give headers or a DataLoss error, never a crash. Its fast path for
// plain ASCII must agree with the general JSON parser on every input, and
// whatever decodes must encode and decode back to the same headers.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pantau/outbox/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pantau::outbox::DecodeHeaders;
  using pantau::outbox::EncodeHeaders;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  auto fast = DecodeHeaders(json);
  auto slow = pantau::outbox::internal::DecodeHeadersJson(json);
  if (fast.ok() != slow.ok()) abort();
  if (!fast.ok()) return 0;
  if (*fast != *slow) abort();
  auto back = DecodeHeaders(EncodeHeaders(*fast));
  // EncodeHeaders replaces invalid UTF-8, which the parser never returns.
  if (!back.ok() || *back != *fast) abort();
  return 0;
}
