// Everything `pantau serve` can be told, and the one table that maps each
// setting to its command-line flag and its config-file key.
//
// Every flag is also a config key: the flag `--a.b-c` is the key path
// `a: {b_c: ...}` (dots nest, dashes become underscores). Precedence:
// built-in default < config file < flag given on the command line.
//
// Thread safety: plain data; the server copies Options on (re)load.
#ifndef PANTAU_SERVER_OPTIONS_H_
#define PANTAU_SERVER_OPTIONS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace pantau::server {

struct Options {
  // --config.file: YAML file; "" runs on defaults alone.
  std::string config_file;

  // --web.listen-address: where the UI and every HTTP API listen.
  std::string web_listen_address = ":9090";
  // --web.read-timeout: longest time to read one whole request.
  absl::Duration web_read_timeout = absl::Minutes(5);
  // --web.idle-timeout: keep-alive connections idle this long are closed.
  absl::Duration web_idle_timeout = absl::Minutes(2);
  // --web.max-request-bytes: largest request body accepted (after
  // decompression); larger bodies get 413.
  int64_t web_max_request_bytes = int64_t{64} << 20;
  // --web.shutdown-timeout: how long in-flight requests may finish on stop.
  absl::Duration web_shutdown_timeout = absl::Seconds(30);
  // --web.enable-lifecycle: allow POST /-/reload and /-/quit.
  bool web_enable_lifecycle = false;

  // --otlp.grpc-listen-address: OTLP/gRPC receiver (the OpenTelemetry
  // default port); "" disables it.
  std::string otlp_grpc_listen_address = ":4317";
  // --otlp.http-listen-address: an extra listener for OTLP/HTTP on its
  // conventional port; "" disables it. /v1/metrics is always also served
  // on --web.listen-address.
  std::string otlp_http_listen_address = ":4318";

  // --storage.path: the data directory, one subfolder per signal.
  std::string storage_path = "./data";
  // --storage.retention.time: data older than this is deleted.
  absl::Duration storage_retention_time = absl::Hours(24 * 15);
  // --storage.retention.size: bytes kept at most; 0 means no limit.
  int64_t storage_retention_size = 0;

  // --storage.max-series: most active series the head holds; a sample of a
  // new series over it is refused (counted). 0 means no limit.
  int64_t storage_max_series = 0;
  // --storage.max-series-per-metric: the same, per metric name.
  int64_t storage_max_series_per_metric = 0;
  // --storage.exemplars.max-exemplars: exemplars kept (newest first, over
  // all series); 0 disables exemplar storage. The config key is the one
  // Prometheus uses: storage: {exemplars: {max_exemplars: N}}.
  int64_t storage_exemplars_max_exemplars = 100000;

  // --query.timeout: longest time one query may run.
  absl::Duration query_timeout = absl::Minutes(2);
  // --query.max-samples: most samples one query may hold in memory at once.
  int64_t query_max_samples = 50'000'000;
  // --query.lookback-delta: how far back an instant selector looks.
  absl::Duration query_lookback_delta = absl::Minutes(5);

  // --log.level: debug, info, warn or error.
  std::string log_level = "info";
  // --log.format: logfmt or json.
  std::string log_format = "logfmt";
};

enum class OptionKind { kString, kDuration, kBytes, kBool, kInt };

// One setting: its flag, its key path, its help and how to set it from
// text (shared by the flag parser and the config loader, so both accept
// exactly the same values).
struct OptionSpec {
  std::string flag;      // without dashes, e.g. "web.listen-address"
  std::string key_path;  // e.g. "web.listen_address"
  std::string help;
  OptionKind kind;
  std::string default_text;
  // Parses `value` into the Options field; INVALID_ARGUMENT with a reason
  // on a bad value.
  std::function<absl::Status(Options*, std::string_view value)> set;
  // The current value as text, as --help and /api/v1/status/flags show it.
  std::function<std::string(const Options&)> get;
  // Flags that restarting would be needed to change (listen address,
  // storage path); a reload that changes them only warns.
  bool needs_restart = false;
};

// The table of every option, in help order.
const std::vector<OptionSpec>& AllOptions();

// "a.b-c" -> "a.b_c".
std::string FlagToKeyPath(std::string_view flag);

// Parses a byte size as Prometheus does: a number with an optional unit
// B, KB, MB, GB, TB, PB, EB (powers of 1024), e.g. "512MB", "1GB", "0".
absl::StatusOr<int64_t> ParseBytes(std::string_view s);

}  // namespace pantau::server

#endif  // PANTAU_SERVER_OPTIONS_H_
