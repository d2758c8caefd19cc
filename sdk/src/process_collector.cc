#include "pantau/sdk/process_collector.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string_view>

namespace pantau::sdk {
namespace {

std::optional<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string s((std::istreambuf_iterator<char>(in)),
                std::istreambuf_iterator<char>());
  return s;
}

// Splits on `sep`, dropping empty pieces when skip_empty. (absl::StrSplit
// would do, but Debian's Abseil has its own string_view type.)
std::vector<std::string_view> Split(std::string_view s, char sep,
                                    bool skip_empty) {
  std::vector<std::string_view> out;
  while (true) {
    size_t pos = s.find(sep);
    std::string_view piece = s.substr(0, pos);
    if (!piece.empty() || !skip_empty) out.push_back(piece);
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

template <typename T>
std::optional<T> ParseNumber(std::string_view s) {
  T v{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

void AddGauge(std::vector<FamilySnapshot>* out, std::string name,
              std::string help, std::string unit, MetricType type,
              double value) {
  FamilySnapshot& f = out->emplace_back();
  f.name = std::move(name);
  f.help = std::move(help);
  f.unit = std::move(unit);
  f.type = type;
  f.points.emplace_back().value = value;
}

// Fields of /proc/<pid>/stat after the command name, which is in
// parentheses and may itself contain spaces and parentheses: so split after
// the last ')'. The returned vector starts at field 3 (state).
std::optional<std::vector<std::string_view>> StatFields(std::string_view stat) {
  size_t close = stat.rfind(')');
  if (close == std::string_view::npos || close + 2 > stat.size()) {
    return std::nullopt;
  }
  std::vector<std::string_view> fields =
      Split(stat.substr(close + 2), ' ', true);
  if (fields.size() < 22) return std::nullopt;
  if (!fields.back().empty() && fields.back().back() == '\n') {
    fields.back().remove_suffix(1);
  }
  return fields;
}

std::optional<double> BootTimeSeconds(const std::string& proc_root) {
  std::optional<std::string> stat = ReadFile(proc_root + "/stat");
  if (!stat) return std::nullopt;
  for (std::string_view line : Split(*stat, '\n', false)) {
    if (line.substr(0, 6) == "btime ") {
      auto v = ParseNumber<int64_t>(line.substr(6));
      if (v) return static_cast<double>(*v);
    }
  }
  return std::nullopt;
}

std::optional<double> MaxOpenFiles(const std::string& limits_path) {
  std::optional<std::string> limits = ReadFile(limits_path);
  if (!limits) return std::nullopt;
  for (std::string_view line : Split(*limits, '\n', false)) {
    if (line.substr(0, 15) != "Max open files ") continue;
    std::vector<std::string_view> cols = Split(line.substr(15), ' ', true);
    if (cols.empty()) return std::nullopt;
    if (cols[0] == "unlimited") return std::nullopt;
    auto v = ParseNumber<int64_t>(cols[0]);
    if (v) return static_cast<double>(*v);
  }
  return std::nullopt;
}

}  // namespace

ProcessCollector::ProcessCollector(std::string proc_root, std::string pid_dir)
    : proc_root_(std::move(proc_root)),
      pid_dir_(std::move(pid_dir)),
      ticks_per_second_(sysconf(_SC_CLK_TCK)),
      page_size_(sysconf(_SC_PAGESIZE)) {}

void ProcessCollector::Collect(std::vector<FamilySnapshot>* out) const {
  const std::string dir = proc_root_ + "/" + pid_dir_;
  if (std::optional<std::string> stat = ReadFile(dir + "/stat")) {
    if (auto fields = StatFields(*stat)) {
      // Field numbers as in proc(5), minus 3 for the offset of `fields`.
      auto utime = ParseNumber<uint64_t>((*fields)[14 - 3]);
      auto stime = ParseNumber<uint64_t>((*fields)[15 - 3]);
      auto start = ParseNumber<uint64_t>((*fields)[22 - 3]);
      auto vsize = ParseNumber<uint64_t>((*fields)[23 - 3]);
      auto rss = ParseNumber<int64_t>((*fields)[24 - 3]);
      if (utime && stime && ticks_per_second_ > 0) {
        AddGauge(out, "process_cpu_seconds_total",
                 "Total user and system CPU time spent in seconds.", "s",
                 MetricType::kCounter,
                 static_cast<double>(*utime + *stime) / ticks_per_second_);
      }
      if (rss && page_size_ > 0) {
        AddGauge(out, "process_resident_memory_bytes",
                 "Resident memory size in bytes.", "By", MetricType::kGauge,
                 static_cast<double>(*rss) * page_size_);
      }
      if (vsize) {
        AddGauge(out, "process_virtual_memory_bytes",
                 "Virtual memory size in bytes.", "By", MetricType::kGauge,
                 static_cast<double>(*vsize));
      }
      std::optional<double> boot = BootTimeSeconds(proc_root_);
      if (start && boot && ticks_per_second_ > 0) {
        AddGauge(out, "process_start_time_seconds",
                 "Start time of the process since unix epoch in seconds.", "s",
                 MetricType::kGauge,
                 *boot + static_cast<double>(*start) / ticks_per_second_);
      }
    }
  }
  std::error_code ec;
  std::filesystem::directory_iterator it(dir + "/fd", ec);
  if (!ec) {
    double fds = 0;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) break;
      ++fds;
    }
    if (!ec) {
      AddGauge(out, "process_open_fds", "Number of open file descriptors.", "",
               MetricType::kGauge, fds);
    }
  }
  if (std::optional<double> max = MaxOpenFiles(dir + "/limits")) {
    AddGauge(out, "process_max_fds", "Maximum number of open file descriptors.",
             "", MetricType::kGauge, *max);
  }
}

}  // namespace pantau::sdk
