// Fuzz target: the config loader must answer any file with a Config or an
// error, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config =
      pantau::server::ParseConfig(text, "fuzz.yml", pantau::server::Options());
  (void)config;
  return 0;
}
