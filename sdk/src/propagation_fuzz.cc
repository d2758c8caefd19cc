// Fuzzes the W3C header parsers: the input is split at the first two
// newlines into traceparent, tracestate and baggage values. Whatever
// parses must format and re-parse to the same thing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pantau/sdk/propagation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  std::string_view parent = in.substr(0, a);
  std::string_view rest =
      a == std::string_view::npos ? std::string_view() : in.substr(a + 1);
  size_t b = rest.find('\n');
  std::string_view state = rest.substr(0, b);
  std::string_view baggage =
      b == std::string_view::npos ? std::string_view() : rest.substr(b + 1);

  using namespace pantau::sdk;
  if (auto ctx = ParseTraceparent(parent)) {
    auto again = ParseTraceparent(FormatTraceparent(*ctx));
    if (!again || again->trace_id != ctx->trace_id ||
        again->span_id != ctx->span_id ||
        again->trace_flags != ctx->trace_flags) {
      std::abort();
    }
  }
  if (auto ts = ParseTracestate({state})) {
    auto again = ParseTracestate({*ts});
    if (!again || *again != *ts) std::abort();
  }
  Baggage bag = Baggage::Parse({baggage});
  Baggage round = Baggage::Parse({bag.ToHeader()});
  if (round.entries().size() != bag.entries().size()) std::abort();
  PairCarrier carrier({{"traceparent", std::string(parent)},
                       {"tracestate", std::string(state)},
                       {"baggage", std::string(baggage)}});
  ExtractTraceContext(carrier);
  ExtractBaggage(carrier);
  return 0;
}
