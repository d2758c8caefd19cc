// Fuzzes the remote_write receiver end to end (snappy, protobuf, label
// checks, appends) against a recording store: any input must give a
// status, never a crash. Inputs starting with 'R' skip the snappy layer so
// the fuzzer reaches the protobuf decoder quickly.
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/compression.h"
#include "metrics/ingest/remote_write.h"
#include "metrics/scrape/fake_appendable.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pantau::metrics;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  testing::FakeAppendable store;
  ingest::IngestCounters counters;
  ingest::RemoteWriteReceiver rx(
      &store, &counters,
      {.max_body_bytes = 1 << 20, .max_decompressed_bytes = 4 << 20});
  if (!in.empty() && in[0] == 'R') {
    auto body =
        pantau::base::Compress(pantau::base::Codec::kSnappy, in.substr(1));
    if (body.ok()) rx.Handle(*body, "snappy");
  } else {
    rx.Handle(in, "snappy");
  }
  return 0;
}
