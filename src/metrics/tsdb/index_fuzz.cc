// Fuzzes the block index decoder: a corrupt index must be an error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "metrics/tsdb/index.h"

using namespace pantau::metrics::tsdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r =
      IndexReader::Open(std::string(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  for (const std::string& name : (*r)->LabelNames()) {
    (*r)->ForEachValue(name, [&](std::string_view v) { (*r)->Get(name, v); });
  }
  for (uint64_t id : (*r)->All()) {
    pantau::base::Labels l;
    std::vector<ChunkMeta> c;
    (void)(*r)->Series(id, &l, &c);
  }
  return 0;
}
