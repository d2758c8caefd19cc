// Fuzzes the chunk iterator (both encodings; block chunks come from disk)
// and the packed encoder: every input that iterates cleanly is re-encoded
// with CompactChunk and must iterate to exactly the same samples. The input
// is also read as a block chunks file (ReadChunkRecord at its first
// offsets), whose chunks must lie inside it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "metrics/tsdb/block.h"
#include "metrics/tsdb/chunk.h"

using namespace pantau::metrics::tsdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (uint64_t ref = 0; ref < 16; ++ref) {
    std::string_view chunk;
    if (ReadChunkRecord(in, ref, &chunk).ok() &&
        (chunk.data() < in.data() ||
         chunk.data() + chunk.size() > in.data() + in.size())) {
      std::abort();
    }
  }
  std::vector<int64_t> t;
  std::vector<uint64_t> v;
  ChunkIterator it(in);
  while (it.Next()) {
    if (!t.empty() && it.t() <= t.back()) std::abort();
    t.push_back(it.t());
    v.push_back(it.v_bits());
    if (t.size() > 0x7fff) std::abort();
  }
  if (!it.status().ok() || t.empty() || t.size() > 1000) return 0;
  const std::string packed = EncodePacked(t, v);
  if (packed.empty()) std::abort();
  size_t i = 0;
  ChunkIterator check(packed);
  while (check.Next()) {
    if (i >= t.size() || check.t() != t[i] || check.v_bits() != v[i]) {
      std::abort();
    }
    ++i;
  }
  if (!check.status().ok() || i != t.size()) std::abort();
  const EncodedChunk e = CompactChunk(in);
  if (e.data.size() > in.size()) std::abort();
  return 0;
}
