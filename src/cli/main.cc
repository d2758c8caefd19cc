// The pantau binary: `pantau serve` runs the server; later subcommands
// (import, ...) join here. Flags follow Prometheus's names.
#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "cli/import_openmetrics.h"
#include "server/options.h"
#include "server/serve.h"
#include "server/version.h"

namespace {

std::string VersionText() {
  return std::string("pantau, version ") + pantau::server::kVersion +
         " (revision " + pantau::server::kRevision +
         ")\n  build date: " + pantau::server::kBuildDate +
         "\n  compiler: g++ " + __VERSION__;
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil checks every lock acquisition for lock-order cycles,
  // which costs ~15% of append CPU; lock order is the compiler's job here
  // (thread-safety annotations) and tests run with the check on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  CLI::App app{
      "pantau: metrics, logs, traces and alerts for microservice systems, "
      "in one server that speaks the Prometheus, Loki, Jaeger and OTLP "
      "protocols.",
      "pantau"};
  app.set_version_flag("--version", VersionText(), "Show version and exit.");
  app.require_subcommand(1);
  app.footer("Run 'pantau COMMAND --help' for a command's flags.");

  CLI::App* serve = app.add_subcommand(
      "serve", "Run the pantau server: ingest, storage, query APIs and UI.");
  std::string config_file;
  serve->add_option("--config.file", config_file,
                    "pantau configuration file (YAML). Every flag below is "
                    "also a key there: --a.b-c is a: {b_c: ...}.");
  // One string per option; only those given on the command line override
  // the config file, so the raw text is kept and parsed by the server with
  // the same code the config loader uses.
  const auto& specs = pantau::server::AllOptions();
  std::map<std::string, std::string> raw;
  std::vector<std::pair<const pantau::server::OptionSpec*, CLI::Option*>> opts;
  for (const auto& spec : specs) {
    CLI::Option* o =
        serve->add_option("--" + spec.flag, raw[spec.flag], spec.help);
    o->default_str(spec.default_text);
    switch (spec.kind) {
      case pantau::server::OptionKind::kBool:
        o->expected(0, 1)->type_name("[BOOL]");
        break;
      case pantau::server::OptionKind::kDuration:
        o->type_name("DURATION");
        break;
      case pantau::server::OptionKind::kBytes:
        o->type_name("BYTES");
        break;
      case pantau::server::OptionKind::kInt:
        o->type_name("INT");
        break;
      case pantau::server::OptionKind::kString:
        o->type_name("TEXT");
        break;
    }
    opts.emplace_back(&spec, o);
  }

  CLI::App* import = app.add_subcommand(
      "import", "Import data from other systems into pantau's storage.");
  import->require_subcommand(1);
  CLI::App* import_om = import->add_subcommand(
      "openmetrics",
      "Build TSDB blocks from an OpenMetrics file (every sample with a "
      "timestamp), as promtool tsdb create-blocks-from openmetrics does. "
      "OUTDIR is a metrics folder: <storage.path>/metrics.");
  pantau::cli::ImportOptions import_options;
  import_om->add_option("FILE", import_options.file, "OpenMetrics file.")
      ->required();
  import_om
      ->add_option("OUTDIR", import_options.out_dir,
                   "Directory the blocks are written to.")
      ->required();

  // CLI11 reads `--flag=` (an explicitly empty value, e.g. to switch a
  // listener off with --otlp.grpc-listen-address="") as a flag whose value
  // is the next argument. Take those out before it parses and apply them
  // as empty overrides.
  std::vector<pantau::server::FlagOverride> empty_flags;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i > 0 && arg.size() > 3 && arg.rfind("--", 0) == 0 &&
        arg.back() == '=') {
      std::string name(arg.substr(2, arg.size() - 3));
      bool known = false;
      for (const auto& spec : specs) known = known || spec.flag == name;
      if (known) {
        empty_flags.emplace_back(name, "");
        continue;
      }
    }
    args.push_back(argv[i]);
  }
  int args_count = static_cast<int>(args.size());
  CLI11_PARSE(app, args_count, args.data());

  if (import_om->parsed()) {
    import_options.progress = stderr;
    auto result = pantau::cli::ImportOpenMetrics(import_options);
    if (!result.ok()) {
      std::fprintf(stderr, "pantau import openmetrics: %s\n",
                   std::string(result.status().message()).c_str());
      return 1;
    }
    return 0;
  }

  if (serve->parsed()) {
    std::vector<pantau::server::FlagOverride> flags;
    for (const auto& [spec, option] : opts) {
      if (option->count() == 0) continue;
      std::string value = raw[spec->flag];
      // A bare boolean flag (--web.enable-lifecycle) means true.
      if (spec->kind == pantau::server::OptionKind::kBool && value.empty()) {
        value = "true";
      }
      flags.emplace_back(spec->flag, value);
    }
    flags.insert(flags.end(), empty_flags.begin(), empty_flags.end());
    return pantau::server::RunServe(config_file, flags);
  }
  return 0;
}
