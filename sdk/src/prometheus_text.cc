#include "pantau/sdk/prometheus_text.h"

#include <charconv>
#include <cmath>

namespace pantau::sdk {
namespace {

void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    out->append(buf, end);
  }
}

// HELP text escapes backslash and newline only.
void AppendHelp(std::string_view help, std::string* out) {
  for (char c : help) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else {
      out->push_back(c);
    }
  }
}

// Label values also escape the double quote.
void AppendLabelValue(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"') {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// Writes `name{labels[,le="bound"]} `: the series name and its label
// set. Labels with empty values are left out, as Prometheus treats them as
// absent.
void AppendSeries(std::string_view name, std::string_view suffix,
                  const FamilySnapshot& f, const PointSnapshot& p,
                  const std::string* le, std::string* out) {
  out->append(name);
  out->append(suffix);
  bool open = false;
  auto sep = [&] {
    out->push_back(open ? ',' : '{');
    open = true;
  };
  for (size_t i = 0; i < f.label_names.size(); ++i) {
    if (p.label_values[i].empty()) continue;
    sep();
    out->append(f.label_names[i]);
    out->append("=\"");
    AppendLabelValue(p.label_values[i], out);
    out->push_back('"');
  }
  if (le != nullptr) {
    sep();
    out->append("le=\"");
    out->append(*le);
    out->push_back('"');
  }
  if (open) out->push_back('}');
  out->push_back(' ');
}

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGauge:
    case MetricType::kUpDownCounter:
      return "gauge";
  }
  return "untyped";
}

}  // namespace

std::string FormatPrometheusValue(double v) {
  std::string out;
  AppendValue(v, &out);
  return out;
}

void WritePrometheusText(const std::vector<FamilySnapshot>& families,
                         std::string* out) {
  for (const FamilySnapshot& f : families) {
    if (!f.help.empty()) {
      out->append("# HELP ");
      out->append(f.name);
      out->push_back(' ');
      AppendHelp(f.help, out);
      out->push_back('\n');
    }
    out->append("# TYPE ");
    out->append(f.name);
    out->push_back(' ');
    out->append(TypeName(f.type));
    out->push_back('\n');
    if (f.type != MetricType::kHistogram) {
      for (const PointSnapshot& p : f.points) {
        AppendSeries(f.name, "", f, p, nullptr, out);
        AppendValue(p.value, out);
        out->push_back('\n');
      }
      continue;
    }
    std::vector<std::string> les;
    les.reserve(f.bounds.size() + 1);
    for (double b : f.bounds) les.push_back(FormatPrometheusValue(b));
    les.push_back("+Inf");
    for (const PointSnapshot& p : f.points) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < les.size(); ++i) {
        if (i < p.bucket_counts.size()) cumulative += p.bucket_counts[i];
        AppendSeries(f.name, "_bucket", f, p, &les[i], out);
        out->append(std::to_string(cumulative));
        out->push_back('\n');
      }
      AppendSeries(f.name, "_sum", f, p, nullptr, out);
      AppendValue(p.sum, out);
      out->push_back('\n');
      AppendSeries(f.name, "_count", f, p, nullptr, out);
      out->append(std::to_string(p.count));
      out->push_back('\n');
    }
  }
}

std::string PrometheusText(const Registry& registry) {
  std::string out;
  WritePrometheusText(registry.Collect(), &out);
  return out;
}

}  // namespace pantau::sdk
