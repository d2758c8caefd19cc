#include "metrics/scrape/target.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "base/time.h"
#include "metrics/scrape/exposition_parser.h"
#include "metrics/scrape/strings.h"

namespace pantau::metrics::scrape {
namespace {

constexpr std::string_view kAddress = "__address__";
constexpr std::string_view kScheme = "__scheme__";
constexpr std::string_view kMetricsPath = "__metrics_path__";
constexpr std::string_view kInterval = "__scrape_interval__";
constexpr std::string_view kTimeout = "__scrape_timeout__";
constexpr std::string_view kParamPrefix = "__param_";
constexpr std::string_view kMetaPrefix = "__meta_";

// Go's url.QueryEscape.
void QueryEscape(std::string_view s, std::string* out) {
  static const char* kHex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out->push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

bool HasPort(std::string_view addr) {
  // "[v6]:port", "host:port"; a bare IPv6 literal has several colons.
  if (!addr.empty() && addr[0] == '[') {
    size_t close = addr.find(']');
    return close != std::string_view::npos && close + 1 < addr.size() &&
           addr[close + 1] == ':';
  }
  size_t colon = addr.rfind(':');
  return colon != std::string_view::npos &&
         addr.find(':') == colon;  // exactly one colon
}

}  // namespace

base::Labels Target::PublicLabels() const {
  base::LabelsBuilder b(labels);
  for (const base::LabelView& l : labels) {
    if (l.name.starts_with("__")) b.Del(l.name);
  }
  return b.Build();
}

absl::StatusOr<PopulateResult> PopulateTarget(const ScrapeConfig& config,
                                              const Relabeler& relabeler,
                                              const base::Labels& group_labels,
                                              const std::string& address) {
  base::LabelsBuilder b(group_labels);
  b.Set(kAddress, address);
  auto set_default = [&](std::string_view name, std::string_view value) {
    if (b.Get(name).empty()) b.Set(name, value);
  };
  set_default("job", config.job_name);
  set_default(kInterval, base::FormatDuration(config.scrape_interval));
  set_default(kTimeout, base::FormatDuration(config.scrape_timeout));
  set_default(kMetricsPath, config.metrics_path);
  set_default(kScheme, config.scheme);
  for (const auto& [k, v] : config.params) {
    if (!v.empty()) b.Set(absl::StrCat(Sv(kParamPrefix), k), v[0]);
  }
  PopulateResult result;
  result.discovered_labels = b.Build();

  std::optional<base::Labels> relabeled =
      relabeler.Process(result.discovered_labels);
  if (!relabeled || relabeled->empty()) return result;  // dropped

  std::string addr(relabeled->Get(kAddress));
  if (addr.empty()) return absl::InvalidArgumentError("no address");
  std::string_view scheme = relabeled->Get(kScheme);
  if (!HasPort(addr)) {
    if (scheme == "http") {
      addr += ":80";
    } else if (scheme == "https") {
      addr += ":443";
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid scheme: \"", Sv(scheme), "\""));
    }
  }
  if (scheme != "http" && scheme != "https") {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid scheme: \"", Sv(scheme), "\""));
  }
  absl::Status addr_ok = CheckTargetAddress(addr);
  if (!addr_ok.ok()) return addr_ok;

  Target t;
  absl::StatusOr<absl::Duration> interval =
      base::ParseDuration(relabeled->Get(kInterval));
  if (!interval.ok() || *interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("error parsing scrape interval \"",
                     Sv(relabeled->Get(kInterval)), "\""));
  }
  absl::StatusOr<absl::Duration> timeout =
      base::ParseDuration(relabeled->Get(kTimeout));
  if (!timeout.ok() || *timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "error parsing scrape timeout \"", Sv(relabeled->Get(kTimeout)), "\""));
  }
  if (*timeout > *interval) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scrape timeout cannot be greater than scrape interval (\"",
        Sv(relabeled->Get(kTimeout)), "\" > \"", Sv(relabeled->Get(kInterval)),
        "\")"));
  }
  t.interval = *interval;
  t.timeout = *timeout;

  base::LabelsBuilder out(*relabeled);
  out.Set(kAddress, addr);
  for (const base::LabelView& l : *relabeled) {
    if (l.name.starts_with(kMetaPrefix)) out.Del(l.name);
  }
  if (relabeled->Get("instance").empty()) out.Set("instance", addr);
  t.labels = out.Build();
  for (const base::LabelView& l : t.labels) {
    if (!IsValidUtf8(l.value)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid label value for \"", Sv(l.name), "\""));
    }
  }

  // URL: config params, overridden by __param_* labels; sorted like Go's
  // url.Values.Encode.
  std::map<std::string, std::vector<std::string>> params = config.params;
  for (const base::LabelView& l : t.labels) {
    if (l.name.starts_with(kParamPrefix)) {
      params[std::string(l.name.substr(kParamPrefix.size()))] = {
          std::string(l.value)};
    }
  }
  t.url = absl::StrCat(Sv(t.labels.Get(kScheme)), "://", addr,
                       Sv(t.labels.Get(kMetricsPath)));
  bool first = true;
  for (const auto& [k, vs] : params) {
    for (const std::string& v : vs) {
      t.url.push_back(first ? '?' : '&');
      first = false;
      QueryEscape(k, &t.url);
      t.url.push_back('=');
      QueryEscape(v, &t.url);
    }
  }
  t.discovered_labels = result.discovered_labels;
  result.target = std::move(t);
  return result;
}

}  // namespace pantau::metrics::scrape
