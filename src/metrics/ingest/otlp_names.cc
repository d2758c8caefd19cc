#include "metrics/ingest/otlp_names.h"

#include <algorithm>
#include <vector>

namespace pantau::metrics::ingest {
namespace {

struct UnitName {
  std::string_view otel;
  std::string_view prom;
};

constexpr UnitName kUnits[] = {
    {"d", "days"},
    {"h", "hours"},
    {"min", "minutes"},
    {"s", "seconds"},
    {"ms", "milliseconds"},
    {"us", "microseconds"},
    {"ns", "nanoseconds"},
    {"By", "bytes"},
    {"KiBy", "kibibytes"},
    {"MiBy", "mebibytes"},
    {"GiBy", "gibibytes"},
    {"TiBy", "tibibytes"},
    {"KBy", "kilobytes"},
    {"MBy", "megabytes"},
    {"GBy", "gigabytes"},
    {"TBy", "terabytes"},
    {"m", "meters"},
    {"V", "volts"},
    {"A", "amperes"},
    {"J", "joules"},
    {"W", "watts"},
    {"g", "grams"},
    {"Cel", "celsius"},
    {"Hz", "hertz"},
    {"1", ""},
    {"%", "percent"},
};

constexpr UnitName kPerUnits[] = {
    {"s", "second"}, {"m", "minute"}, {"h", "hour"}, {"d", "day"},
    {"w", "week"},   {"mo", "month"}, {"y", "year"},
};

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// Tokens of alphanumerics (non-ASCII bytes count as letters, as Go's
// unicode.IsLetter does for most scripts).
std::vector<std::string> Tokens(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (IsAlnum(c) || (static_cast<unsigned char>(c) >= 0x80)) {
      cur.push_back(c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Prometheus's CleanUpString: tokens joined with "_".
std::string CleanUp(std::string_view s) {
  std::string out;
  for (const std::string& t : Tokens(s)) {
    if (!out.empty()) out.push_back('_');
    out += t;
  }
  return out;
}

std::string MapUnit(std::string_view u, const UnitName* begin,
                    const UnitName* end) {
  for (const UnitName* p = begin; p != end; ++p) {
    if (p->otel == u) return std::string(p->prom);
  }
  return std::string(u);
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

void RemoveAll(std::vector<std::string>* v, std::string_view s) {
  v->erase(std::remove(v->begin(), v->end(), s), v->end());
}

}  // namespace

std::string OtlpMetricName(std::string_view name, std::string_view unit,
                           OtlpKind kind) {
  std::vector<std::string> tokens = Tokens(name);
  size_t slash = unit.find('/');
  std::string_view main =
      Trim(slash == std::string_view::npos ? unit : unit.substr(0, slash));
  if (!main.empty() && main.find_first_of("{}") == std::string_view::npos) {
    std::string prom =
        CleanUp(MapUnit(main, std::begin(kUnits), std::end(kUnits)));
    if (!prom.empty() && !Contains(tokens, prom)) tokens.push_back(prom);
  }
  if (slash != std::string_view::npos) {
    std::string_view per = Trim(unit.substr(slash + 1));
    if (!per.empty() && per.find_first_of("{}") == std::string_view::npos) {
      std::string prom =
          CleanUp(MapUnit(per, std::begin(kPerUnits), std::end(kPerUnits)));
      if (!prom.empty() && !Contains(tokens, prom)) {
        tokens.push_back("per");
        tokens.push_back(prom);
      }
    }
  }
  if (kind == OtlpKind::kMonotonicSum) {
    RemoveAll(&tokens, "total");
    tokens.push_back("total");
  }
  if (unit == "1" && kind == OtlpKind::kGauge) {
    RemoveAll(&tokens, "ratio");
    tokens.push_back("ratio");
  }
  std::string out;
  for (const std::string& t : tokens) {
    if (!out.empty()) out.push_back('_');
    out += t;
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(0, "_");
  // Non-ASCII letters are kept by the tokenizer but are not valid in a
  // Prometheus name.
  for (char& c : out) {
    if (static_cast<unsigned char>(c) >= 0x80) c = '_';
  }
  return out;
}

std::string OtlpLabelName(std::string_view key) {
  std::string out(key);
  if (out.empty()) return out;
  for (char& c : out) {
    if (!IsAlnum(c) && c != '_') c = '_';
  }
  if (out[0] >= '0' && out[0] <= '9') {
    out.insert(0, "key_");
  } else if (out[0] == '_' && (out.size() < 2 || out[1] != '_')) {
    out.insert(0, "key");
  }
  return out;
}

}  // namespace pantau::metrics::ingest
