#include "server/server.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "base/time.h"
#include "metrics/api/api.h"
#include "net/grpc_server.h"
#include "net/http_server.h"
#include "net/router.h"
#include "pantau/sdk/metrics.h"
#include "server/metrics_signal.h"
#include "server/self_metrics.h"
#include "server/version.h"

namespace pantau::server {
namespace {

constexpr char kLandingPage[] = R"(<!doctype html>
<html><head><meta charset="utf-8"><title>pantau</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>pantau</h1>
<p>Metrics, logs, traces and alerts in one server.</p>
<ul>
<li><a href="/metrics">/metrics</a>: pantau's own metrics</li>
<li><a href="/-/healthy">/-/healthy</a> and <a href="/-/ready">/-/ready</a></li>
</ul>
</body></html>
)";

}  // namespace

Server::Server(Options options, std::vector<FlagOverride> flags)
    : options_(std::move(options)),
      flags_(std::move(flags)),
      registry_(std::make_unique<sdk::Registry>()),
      self_metrics_(std::make_unique<SelfMetrics>(registry_.get())),
      router_(std::make_shared<net::Router>()),
      metrics_(std::make_unique<MetricsSignal>()) {}

Server::~Server() { Shutdown(); }

absl::Status Server::ApplyLogging(const Options& options) {
  PANTAU_ASSIGN_OR_RETURN(base::LogLevel level,
                          base::ParseLogLevel(options.log_level));
  PANTAU_ASSIGN_OR_RETURN(base::LogFormat format,
                          base::ParseLogFormat(options.log_format));
  base::SetLogLevel(level);
  base::SetLogFormat(format);
  return absl::OkStatus();
}

absl::Status Server::LockDataDir() {
  std::string path = options().storage_path;
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create data directory ", path, ": ", ec.message()));
  }
  std::string lock_path = path + "/lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open lock file ", lock_path, ": ", std::strerror(errno)));
  }
  // Two servers writing one data directory would corrupt it.
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    return absl::FailedPreconditionError(absl::StrCat(
        "data directory ", path,
        " is in use by another pantau process (lock file ", lock_path, ")"));
  }
  return absl::OkStatus();
}

void Server::RegisterRoutes() {
  net::Router& r = *router_;
  r.Use(self_metrics_->HttpMiddleware());
  auto check = [](absl::Status s) {
    if (!s.ok()) PANTAU_LOG(kError, "route registration failed", {{"err", s}});
  };
  net::RouteOptions inline_route{.executor = net::Executor::kInline};
  check(r.Handle("GET", "/metrics", self_metrics_->MetricsHandler()));
  check(r.Handle(
      "GET", "/-/healthy",
      [](const net::HttpRequest&, net::RequestContext&) {
        return net::HttpResponse::Text(200, "pantau is Healthy.\n");
      },
      inline_route));
  check(r.Handle(
      "GET", "/-/ready",
      [this](const net::HttpRequest&, net::RequestContext&) {
        if (!ready_.load()) {
          return net::HttpResponse::Text(503, "Service Unavailable\n");
        }
        return net::HttpResponse::Text(200, "pantau is Ready.\n");
      },
      inline_route));
  check(r.Handle(
      {"POST", "PUT"}, "/-/reload",
      [this](const net::HttpRequest&, net::RequestContext&) {
        if (!options().web_enable_lifecycle) {
          return net::HttpResponse::Error(
              403, "Lifecycle API is not enabled (--web.enable-lifecycle).");
        }
        absl::Status s = Reload();
        if (!s.ok()) {
          return net::HttpResponse::Error(
              500, absl::StrCat("failed to reload config: ", s.message()));
        }
        return net::HttpResponse::Text(200, "");
      }));
  check(r.Handle(
      {"POST", "PUT"}, "/-/quit",
      [this](const net::HttpRequest&, net::RequestContext&) {
        if (!options().web_enable_lifecycle) {
          return net::HttpResponse::Error(
              403, "Lifecycle API is not enabled (--web.enable-lifecycle).");
        }
        if (on_quit_) on_quit_();
        return net::HttpResponse::Text(200,
                                       "Requesting termination... Goodbye!\n");
      }));
  check(r.Handle("GET", "/", [](const net::HttpRequest&, net::RequestContext&) {
    net::HttpResponse resp;
    resp.headers.Set("Content-Type", "text/html; charset=utf-8");
    resp.body = kLandingPage;
    return resp;
  }));
}

metrics::api::ApiDeps Server::ApiCallbacks() {
  metrics::api::ApiDeps deps;
  deps.build_info = [] {
    metrics::api::BuildInfo b;
    // Grafana reads `version` to decide which Prometheus features it may
    // use, so it names the Prometheus API level pantau implements; pantau's
    // own version is in `branch` and `revision`.
    b.version = "2.42.0";
    b.revision = kRevision;
    b.branch = std::string("pantau-") + kVersion;
    b.build_date = kBuildDate;
    b.go_version = std::string("g++ ") + __VERSION__;
    return b;
  };
  deps.config_yaml = [this] {
    std::string path = options().config_file;
    if (path.empty()) return std::string();
    std::ifstream in(path);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  };
  deps.flags = [this] {
    Options o = options();
    std::vector<std::pair<std::string, std::string>> out;
    out.emplace_back("config.file", o.config_file);
    for (const OptionSpec& spec : AllOptions()) {
      out.emplace_back(spec.flag, spec.get(o));
    }
    return out;
  };
  deps.runtime_info = [this] {
    metrics::api::RuntimeInfo r;
    r.start_time = start_time_;
    std::error_code ec;
    r.cwd = std::filesystem::current_path(ec).string();
    r.reload_config_success = last_reload_ok_.load();
    r.last_config_time = absl::FromUnixSeconds(last_reload_unix_.load());
    r.gomaxprocs = std::thread::hardware_concurrency();
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Threads:", 0) == 0)
        r.goroutine_count = std::atoll(line.c_str() + 8);
    }
    r.storage_retention =
        base::FormatDuration(options().storage_retention_time);
    return r;
  };
  return deps;
}

absl::Status Server::Start() {
  Options opts = options();
  PANTAU_RETURN_IF_ERROR(ApplyLogging(opts));
  PANTAU_RETURN_IF_ERROR(LockDataDir());
  RegisterRoutes();
  PANTAU_RETURN_IF_ERROR(
      metrics_->RegisterRoutes(*router_, opts, ApiCallbacks()));

  net::HttpServer::Options http;
  http.listen_address = opts.web_listen_address;
  http.read_timeout = opts.web_read_timeout;
  http.idle_timeout = opts.web_idle_timeout;
  http.max_decoded_body_bytes = static_cast<size_t>(opts.web_max_request_bytes);
  http.max_body_bytes = static_cast<size_t>(opts.web_max_request_bytes);
  http.on_protocol_error = [this](net::ProtocolError e) {
    self_metrics_->CountProtocolError(net::ProtocolErrorName(e));
  };
  http_ = std::make_unique<net::HttpServer>(http, router_);
  PANTAU_RETURN_IF_ERROR(http_->Start());
  PANTAU_LOG(kInfo, "listening",
             {{"address", opts.web_listen_address}, {"port", http_->port()}});
  if (!opts.otlp_http_listen_address.empty()) {
    http.listen_address = opts.otlp_http_listen_address;
    otlp_http_ = std::make_unique<net::HttpServer>(http, router_);
    PANTAU_RETURN_IF_ERROR(otlp_http_->Start());
    PANTAU_LOG(kInfo, "listening for OTLP/HTTP",
               {{"address", opts.otlp_http_listen_address},
                {"port", otlp_http_->port()}});
  }
  // Serve /-/healthy (and 503 on /-/ready) while storage recovers, as
  // Prometheus does, so orchestrators can tell "starting" from "dead".
  absl::Status opened = metrics_->Open(opts, registry_.get());
  if (!opened.ok()) {
    http_->Shutdown(absl::ZeroDuration());
    return opened;
  }
  if (!opts.otlp_grpc_listen_address.empty()) {
    net::GrpcServer::Options g;
    g.listen_address = opts.otlp_grpc_listen_address;
    g.max_receive_message_bytes =
        static_cast<size_t>(opts.web_max_request_bytes);
    grpc_ = std::make_unique<net::GrpcServer>(g);
    grpc_->RegisterService(metrics_->otlp_grpc_service());
    PANTAU_RETURN_IF_ERROR(grpc_->Start());
    PANTAU_LOG(
        kInfo, "listening for OTLP/gRPC",
        {{"address", opts.otlp_grpc_listen_address}, {"port", grpc_->port()}});
  }
  ready_.store(true);
  PANTAU_LOG(kInfo, "server is ready to receive requests",
             {{"storage_path", opts.storage_path}});
  return absl::OkStatus();
}

absl::Status Server::Reload() {
  absl::MutexLock lock(&reload_mu_);
  auto resolved = ResolveOptions(options_.config_file, flags_);
  if (!resolved.ok()) {
    self_metrics_->RecordReload(false);
    last_reload_ok_.store(false);
    PANTAU_LOG(kError, "error reloading config, keeping the running one",
               {{"err", resolved.status()}});
    return resolved.status();
  }
  Options next = *std::move(resolved);
  // Settings read only at start-up keep their running value; say so
  // rather than pretend the new one took effect.
  for (const OptionSpec& spec : AllOptions()) {
    if (!spec.needs_restart) continue;
    const std::string running = spec.get(options_);
    const std::string configured = spec.get(next);
    if (running == configured) continue;
    PANTAU_LOG(kWarn, "setting changes only on restart",
               {{"setting", spec.key_path},
                {"running", running},
                {"configured", configured}});
    if (absl::Status st = spec.set(&next, running); !st.ok()) {
      PANTAU_LOG(kError, "cannot keep the running setting", {{"err", st}});
    }
  }
  absl::Status scrape = metrics_->Reload(next);
  if (!scrape.ok()) {
    self_metrics_->RecordReload(false);
    last_reload_ok_.store(false);
    PANTAU_LOG(kError, "error reloading config, keeping the running one",
               {{"err", scrape}});
    return scrape;
  }
  PANTAU_RETURN_IF_ERROR(ApplyLogging(next));
  options_ = std::move(next);
  self_metrics_->RecordReload(true);
  last_reload_ok_.store(true);
  last_reload_unix_.store(absl::ToUnixSeconds(absl::Now()));
  PANTAU_LOG(kInfo, "completed loading of configuration file",
             {{"filename", options_.config_file}});
  return absl::OkStatus();
}

void Server::Shutdown() {
  if (stopped_) return;
  stopped_ = true;
  ready_.store(false);
  if (http_) {
    PANTAU_LOG(kInfo, "stopping HTTP server, letting requests finish",
               {{"grace", options().web_shutdown_timeout}});
    http_->Shutdown(options().web_shutdown_timeout);
  }
  if (otlp_http_) otlp_http_->Shutdown(options().web_shutdown_timeout);
  if (grpc_) grpc_->Shutdown(options().web_shutdown_timeout);
  absl::Status closed = metrics_->Close();
  if (!closed.ok()) {
    PANTAU_LOG(kError, "error closing metrics storage", {{"err", closed}});
  }
  if (lock_fd_ >= 0) {
    ::flock(lock_fd_, LOCK_UN);
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  PANTAU_LOG(kInfo, "see you next time!");
}

int Server::http_port() const { return http_ ? http_->port() : 0; }
int Server::otlp_http_port() const {
  return otlp_http_ ? otlp_http_->port() : 0;
}
int Server::otlp_grpc_port() const { return grpc_ ? grpc_->port() : 0; }

Options Server::options() const {
  absl::MutexLock lock(&reload_mu_);
  return options_;
}

}  // namespace pantau::server
