#include "metrics/scrape/file_sd.h"

#include <glob.h>
#include <sys/stat.h>

#include <fstream>
#include <set>
#include <sstream>

#include "base/log.h"

namespace pantau::metrics::scrape {

std::vector<std::string> ExpandGlob(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (glob(pattern.c_str(), 0, nullptr, &g) == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  }
  globfree(&g);
  return out;
}

bool FileSd::Poll(absl::Time now) {
  const bool force = now >= next_refresh_;
  if (force) next_refresh_ = now + config_.refresh_interval;
  std::set<std::string> present;
  for (const std::string& pattern : config_.files) {
    for (std::string& f : ExpandGlob(pattern)) present.insert(std::move(f));
  }
  bool changed = false;
  for (auto it = files_.begin(); it != files_.end();) {
    if (!present.count(it->first)) {
      files_.erase(it++);
      changed = true;
    } else {
      ++it;
    }
  }
  for (const std::string& path : present) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) continue;
    int64_t mtime =
        int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    FileState& state = files_[path];
    if (!force && state.mtime_ns == mtime && state.size == st.st_size) {
      continue;
    }
    state.mtime_ns = mtime;
    state.size = st.st_size;
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StatusOr<std::vector<TargetGroup>> groups =
        ParseTargetGroups(ss.str(), path);
    if (!groups.ok()) {
      PANTAU_LOG(kError,
                 "file_sd: cannot read target groups, keeping the "
                 "previous ones",
                 {{"file", path}, {"err", groups.status()}});
      continue;
    }
    for (TargetGroup& g : *groups) {
      g.labels =
          base::LabelsBuilder(g.labels).Set("__meta_filepath", path).Build();
    }
    if (groups->size() != state.groups.size()) changed = true;
    for (size_t i = 0; !changed && i < groups->size(); ++i) {
      changed = (*groups)[i].targets != state.groups[i].targets ||
                (*groups)[i].labels != state.groups[i].labels;
    }
    state.groups = *std::move(groups);
  }
  return changed;
}

std::vector<TargetGroup> FileSd::Groups() const {
  std::vector<TargetGroup> out;
  for (const auto& [path, state] : files_) {
    out.insert(out.end(), state.groups.begin(), state.groups.end());
  }
  return out;
}

}  // namespace pantau::metrics::scrape
