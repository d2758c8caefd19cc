#include "server/options.h"

#include <cctype>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"

namespace pantau::server {
namespace {

using base::Sv;

absl::Status BadValue(std::string_view what, std::string_view value,
                      std::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat("invalid ", Sv(what), " \"", Sv(value), "\": ", Sv(want)));
}

OptionSpec StringOpt(std::string flag, std::string help, std::string def,
                     std::string Options::*field, bool restart = false,
                     std::function<absl::Status(std::string_view)> check = {}) {
  OptionSpec s;
  s.flag = flag;
  s.key_path = FlagToKeyPath(flag);
  s.help = std::move(help);
  s.kind = OptionKind::kString;
  s.default_text = std::move(def);
  s.needs_restart = restart;
  s.get = [field](const Options& o) { return o.*field; };
  s.set = [field, check](Options* o, std::string_view v) -> absl::Status {
    if (check) {
      absl::Status st = check(v);
      if (!st.ok()) return st;
    }
    o->*field = std::string(v);
    return absl::OkStatus();
  };
  return s;
}

OptionSpec DurationOpt(std::string flag, std::string help, std::string def,
                       absl::Duration Options::*field) {
  OptionSpec s;
  s.flag = flag;
  s.key_path = FlagToKeyPath(flag);
  s.help = std::move(help);
  s.kind = OptionKind::kDuration;
  s.default_text = std::move(def);
  s.get = [field](const Options& o) { return base::FormatDuration(o.*field); };
  s.set = [field](Options* o, std::string_view v) -> absl::Status {
    auto d = base::ParseDuration(v);
    if (!d.ok()) return BadValue("duration", v, "want e.g. 30s, 5m, 15d");
    o->*field = *d;
    return absl::OkStatus();
  };
  return s;
}

OptionSpec BytesOpt(std::string flag, std::string help, std::string def,
                    int64_t Options::*field) {
  OptionSpec s;
  s.flag = flag;
  s.key_path = FlagToKeyPath(flag);
  s.help = std::move(help);
  s.kind = OptionKind::kBytes;
  s.default_text = std::move(def);
  s.get = [field](const Options& o) { return absl::StrCat(o.*field, "B"); };
  s.set = [field](Options* o, std::string_view v) -> absl::Status {
    auto b = ParseBytes(v);
    if (!b.ok()) return b.status();
    o->*field = *b;
    return absl::OkStatus();
  };
  return s;
}

OptionSpec BoolOpt(std::string flag, std::string help, bool Options::*field) {
  OptionSpec s;
  s.flag = flag;
  s.key_path = FlagToKeyPath(flag);
  s.help = std::move(help);
  s.kind = OptionKind::kBool;
  s.default_text = "false";
  s.get = [field](const Options& o) {
    return std::string(o.*field ? "true" : "false");
  };
  s.set = [field](Options* o, std::string_view v) -> absl::Status {
    std::string l = absl::AsciiStrToLower(Sv(v));
    if (l == "true" || l == "1") {
      o->*field = true;
    } else if (l == "false" || l == "0") {
      o->*field = false;
    } else {
      return BadValue("boolean", v, "want true or false");
    }
    return absl::OkStatus();
  };
  return s;
}

OptionSpec IntOpt(std::string flag, std::string help, std::string def,
                  int64_t Options::*field) {
  OptionSpec s;
  s.flag = flag;
  s.key_path = FlagToKeyPath(flag);
  s.help = std::move(help);
  s.kind = OptionKind::kInt;
  s.default_text = std::move(def);
  s.get = [field](const Options& o) { return absl::StrCat(o.*field); };
  s.set = [field](Options* o, std::string_view v) -> absl::Status {
    int64_t n;
    if (!absl::SimpleAtoi(Sv(v), &n) || n < 0) {
      return BadValue("number", v, "want a whole number >= 0");
    }
    o->*field = n;
    return absl::OkStatus();
  };
  return s;
}

// Settings read once at start-up: a reload keeps the running value.
OptionSpec RestartOnly(OptionSpec s) {
  s.needs_restart = true;
  return s;
}

}  // namespace

std::string FlagToKeyPath(std::string_view flag) {
  std::string out(flag);
  for (char& c : out) {
    if (c == '-') c = '_';
  }
  return out;
}

absl::StatusOr<int64_t> ParseBytes(std::string_view s) {
  std::string_view num = s;
  size_t i = 0;
  while (i < s.size() &&
         (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    ++i;
  }
  num = s.substr(0, i);
  std::string unit = absl::AsciiStrToUpper(Sv(s.substr(i)));
  double n;
  if (num.empty() || !absl::SimpleAtod(Sv(num), &n)) {
    return BadValue("size", s, "want a number with a unit, e.g. 512MB");
  }
  static constexpr std::pair<std::string_view, int> kUnits[] = {
      {"", 0},   {"B", 0},  {"KB", 1}, {"MB", 2},
      {"GB", 3}, {"TB", 4}, {"PB", 5}, {"EB", 6}};
  for (const auto& [name, power] : kUnits) {
    if (unit == name) {
      double bytes = n * std::pow(1024.0, power);
      if (bytes >= 9.2e18) return BadValue("size", s, "too large");
      return static_cast<int64_t>(bytes);
    }
  }
  return BadValue("size", s, "unit must be one of B, KB, MB, GB, TB, PB, EB");
}

const std::vector<OptionSpec>& AllOptions() {
  static const std::vector<OptionSpec>* options = [] {
    auto* v = new std::vector<OptionSpec>;
    v->push_back(
        StringOpt("web.listen-address",
                  "Address to listen on for the UI, the APIs and /metrics.",
                  ":9090", &Options::web_listen_address, /*restart=*/true));
    v->push_back(DurationOpt("web.read-timeout",
                             "Maximum time to read one request.", "5m",
                             &Options::web_read_timeout));
    v->push_back(DurationOpt("web.idle-timeout",
                             "Close keep-alive connections idle this long.",
                             "2m", &Options::web_idle_timeout));
    v->push_back(BytesOpt("web.max-request-bytes",
                          "Largest request body accepted, after decompression.",
                          "64MB", &Options::web_max_request_bytes));
    v->push_back(DurationOpt(
        "web.shutdown-timeout",
        "How long in-flight requests may run on after a stop signal.", "30s",
        &Options::web_shutdown_timeout));
    v->push_back(BoolOpt("web.enable-lifecycle",
                         "Enable shutdown and reload via HTTP request.",
                         &Options::web_enable_lifecycle));
    v->push_back(StringOpt(
        "otlp.grpc-listen-address",
        "Address of the OTLP/gRPC receiver; empty disables it.", ":4317",
        &Options::otlp_grpc_listen_address, /*restart=*/true));
    v->push_back(StringOpt(
        "otlp.http-listen-address",
        "Extra listener for OTLP/HTTP (/v1/metrics); empty disables it.",
        ":4318", &Options::otlp_http_listen_address, /*restart=*/true));
    v->push_back(StringOpt("storage.path", "Base path for all data.", "./data",
                           &Options::storage_path, /*restart=*/true));
    v->push_back(RestartOnly(DurationOpt("storage.retention.time",
                                         "How long to retain data.", "15d",
                                         &Options::storage_retention_time)));
    v->push_back(RestartOnly(BytesOpt(
        "storage.retention.size",
        "Maximum bytes of data kept; 0 disables. Units: B, KB, MB, GB, ...",
        "0", &Options::storage_retention_size)));
    v->push_back(RestartOnly(
        IntOpt("storage.max-series",
               "Maximum active series; samples of new series beyond it are "
               "refused and counted. 0 disables.",
               "0", &Options::storage_max_series)));
    v->push_back(
        RestartOnly(IntOpt("storage.max-series-per-metric",
                           "Maximum active series per metric name; 0 disables.",
                           "0", &Options::storage_max_series_per_metric)));
    v->push_back(IntOpt("storage.exemplars.max-exemplars",
                        "Exemplars kept in the exemplar ring, newest over "
                        "all series; 0 disables exemplar storage.",
                        "100000", &Options::storage_exemplars_max_exemplars));
    v->push_back(RestartOnly(DurationOpt(
        "query.timeout", "Maximum time a query may take before it is aborted.",
        "2m", &Options::query_timeout)));
    v->push_back(RestartOnly(
        IntOpt("query.max-samples",
               "Maximum number of samples a single query can load into memory.",
               "50000000", &Options::query_max_samples)));
    v->push_back(RestartOnly(DurationOpt(
        "query.lookback-delta",
        "How far back an instant selector looks for the latest sample.", "5m",
        &Options::query_lookback_delta)));
    v->push_back(StringOpt(
        "log.level",
        "Only log messages with this severity or above: debug, "
        "info, warn, error.",
        "info", &Options::log_level, false,
        [](std::string_view s) { return base::ParseLogLevel(s).status(); }));
    v->push_back(StringOpt(
        "log.format", "Output format of log messages: logfmt or json.",
        "logfmt", &Options::log_format, false,
        [](std::string_view s) { return base::ParseLogFormat(s).status(); }));
    return v;
  }();
  return *options;
}

}  // namespace pantau::server
