// Fuzzes both exposition parsers over the same bytes: every input must end
// in an entry stream or an error, never a crash or a read past the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "metrics/scrape/exposition_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (auto format :
       {pantau::metrics::scrape::ExpositionFormat::kText004,
        pantau::metrics::scrape::ExpositionFormat::kOpenMetrics}) {
    pantau::metrics::scrape::ExpositionParser p(body, format);
    for (int i = 0; i < 100000; ++i) {
      auto e = p.Next();
      if (!e.ok() || *e == pantau::metrics::scrape::ExpositionEntry::kEof) {
        break;
      }
      // Touch every view so ASan sees out-of-range ones.
      size_t n = p.metric_name().size() + p.help().size();
      for (const auto& l : p.labels()) n += l.name.size() + l.value.size();
      for (const auto& l : p.exemplar_labels()) n += l.value.size();
      if (n == static_cast<size_t>(-1)) return 1;
    }
  }
  return 0;
}
