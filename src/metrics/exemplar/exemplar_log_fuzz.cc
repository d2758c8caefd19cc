// Fuzzes the exemplar log decoder: any bytes after the magic must decode
// to a valid prefix of records, never crash or read past the input, and
// every decoded record must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/exemplar/exemplar_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pantau::metrics::exemplar::DecodeRecords;
  using pantau::metrics::exemplar::EncodeRecord;
  using pantau::metrics::exemplar::LoggedExemplar;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<LoggedExemplar> out;
  size_t valid = DecodeRecords(in, &out);
  if (valid > size) std::abort();
  std::string again;
  for (const auto& [series, e] : out) EncodeRecord(series, e, &again);
  if (again != in.substr(0, valid)) std::abort();
  return 0;
}
