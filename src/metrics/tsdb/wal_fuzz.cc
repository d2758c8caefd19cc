// Fuzzes the WAL record reader and payload decoders (replay input comes
// from disk and may be torn or corrupt), plus the XOR chunk iterator.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/tsdb/chunk.h"
#include "metrics/tsdb/records.h"

using namespace pantau::metrics::tsdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  ScanRecords(in, [](WalRecordType type, std::string_view payload) {
    switch (type) {
      case WalRecordType::kSeries: {
        std::vector<std::pair<pantau::metrics::SeriesRef, pantau::base::Labels>>
            s;
        return DecodeSeries(payload, &s);
      }
      case WalRecordType::kSamples: {
        std::vector<RefSample> s;
        return DecodeSamples(payload, &s);
      }
      case WalRecordType::kSeriesChunks: {
        pantau::metrics::SeriesRef ref;
        ChunkedSeries cs, header_checked;
        // The lighter check that loading a checkpoint uses must be as safe.
        (void)DecodeSeriesChunks(payload, &ref, &header_checked,
                                 ChunkCheck::kHeader);
        for (const ChunkData& c : header_checked.chunks) {
          ChunkIterator it(c.bytes);
          while (it.Next()) {
          }
        }
        return DecodeSeriesChunks(payload, &ref, &cs);
      }
    }
    return absl::OkStatus();
  });
  XorIterator it(in);
  while (it.Next()) {
  }
  return 0;
}
