// Fuzzes the evaluator: any query that parses is run, instant and as a
// short range query, over a small fixed data set under tight limits. It
// must return a value or a Status, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "metrics/promql/engine.h"
#include "metrics/promql/testing/memory_queryable.h"

namespace {

pantau::metrics::promql::testing::MemoryQueryable* Store() {
  static auto* store = [] {
    auto* s = new pantau::metrics::promql::testing::MemoryQueryable;
    using pantau::base::Labels;
    const char* les[] = {"0.1", "1", "+Inf"};
    for (int i = 0; i < 3; ++i) {
      Labels c = Labels::Of({{"__name__", "x"},
                             {"i", std::to_string(i)},
                             {"job", i % 2 ? "a" : "b"}});
      Labels h = Labels::Of({{"__name__", "h_bucket"}, {"le", les[i]}});
      for (int t = 0; t < 40; ++t) {
        s->Add(c, t * 15000, t * (i + 1) + (t == 20 ? -50 : 0));
        s->Add(h, t * 15000, t * (i + 1));
      }
    }
    s->Add(Labels::Of({{"__name__", "x"}, {"i", "stale"}}), 0, 1);
    s->Add(Labels::Of({{"__name__", "x"}, {"i", "stale"}}), 15000,
           pantau::metrics::StaleNaN());
    return s;
  }();
  return store;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 512) return 0;
  std::string_view q(reinterpret_cast<const char*>(data), size);
  pantau::metrics::promql::EngineOptions o;
  o.max_samples = 200000;
  o.max_series = 100;
  o.timeout = absl::Seconds(2);
  pantau::metrics::promql::Engine engine(o);
  (void)engine.InstantQuery(*Store(), q, 300000);
  (void)engine.RangeQuery(*Store(), q, 0, 600000, 30000);
  return 0;
}
