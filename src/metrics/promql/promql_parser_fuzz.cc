// Fuzzes the PromQL parser and printer: any input must parse or fail with a
// Status, and whatever parses must print to something that parses again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "metrics/promql/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::string_view q(reinterpret_cast<const char*>(data), size);
  auto e = pantau::metrics::promql::ParseExpr(q);
  if (!e.ok()) return 0;
  std::string printed = (*e)->String();
  auto again = pantau::metrics::promql::ParseExpr(printed);
  if (!again.ok()) std::abort();  // the printer must produce valid PromQL
  return 0;
}
