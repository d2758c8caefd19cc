#include "metrics/promql/functions.h"

#include "absl/container/flat_hash_map.h"

namespace pantau::metrics::promql {
namespace {

struct Table {
  FunctionTable defs;
  absl::flat_hash_map<std::string, const FunctionDef*> by_name;
};

const Table& GetTable() {
  static const Table* table = [] {
    auto* t = new Table;
    // The one place every family registers from.
    RegisterRateFunctions(&t->defs);
    RegisterOverTimeFunctions(&t->defs);
    RegisterMathFunctions(&t->defs);
    RegisterLabelFunctions(&t->defs);
    RegisterTimeFunctions(&t->defs);
    RegisterHistogramFunctions(&t->defs);
    RegisterMiscFunctions(&t->defs);
    for (const FunctionDef& d : t->defs) t->by_name[d.name] = &d;
    return t;
  }();
  return *table;
}

}  // namespace

const FunctionDef* FindFunction(std::string_view name) {
  const auto& m = GetTable().by_name;
  auto it = m.find(std::string(name));
  return it == m.end() ? nullptr : it->second;
}

base::Labels DropMetricName(const base::Labels& l) {
  if (!l.Has(base::kMetricName)) return l;
  return base::LabelsBuilder(l).Del(base::kMetricName).Build();
}

}  // namespace pantau::metrics::promql
