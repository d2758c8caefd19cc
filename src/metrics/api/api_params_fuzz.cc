// Fuzzes what the API parses or escapes from untrusted request input: time
// and duration parameters, match[] selectors, and the hand-written JSON
// string escaper (its UTF-8 validation). The escaped output must always be
// valid UTF-8 with no raw control characters.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "metrics/api/json_writer.h"
#include "metrics/api/params.h"

namespace {

// Aborts unless `s` is valid UTF-8 without bytes below 0x20.
void CheckJsonSafe(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20) std::abort();
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c >= 0x80 && (c < 0xC2 || c > 0xF4)) std::abort();
    if (i + n > s.size()) std::abort();
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) std::abort();
    }
    i += n;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)pantau::metrics::api::ParseTime(in);
  (void)pantau::metrics::api::ParseDurationParam(in);
  (void)pantau::metrics::api::ParseMatchersParam({in});
  std::string out;
  pantau::metrics::api::AppendJsonString(&out, in);
  CheckJsonSafe(out);
  return 0;
}
