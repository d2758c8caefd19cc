// Fuzzes the OTLP metrics receiver through its HTTP entry point. The first
// byte picks the encoding (protobuf or JSON); any input must give a status,
// never a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/ingest/otlp_metrics.h"
#include "metrics/scrape/fake_appendable.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pantau::metrics;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.empty()) return 0;
  testing::FakeAppendable store;
  ingest::IngestCounters counters;
  ingest::OtlpMetricsReceiver rx(
      &store, &counters,
      {.max_body_bytes = 1 << 20, .max_decompressed_bytes = 4 << 20});
  const bool json = in[0] == 'J';
  rx.HandleHttp(in.substr(1),
                json ? "application/json" : "application/x-protobuf", "");
  return 0;
}
