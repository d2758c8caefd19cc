#include "server/resolve.h"

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "server/config.h"

namespace pantau::server {

absl::StatusOr<Options> ResolveOptions(const std::string& config_file,
                                       const std::vector<FlagOverride>& flags) {
  Options options;
  if (!config_file.empty()) {
    PANTAU_ASSIGN_OR_RETURN(Config config,
                            LoadConfigFile(config_file, options));
    options = std::move(config.options);
  }
  options.config_file = config_file;
  for (const auto& [flag, value] : flags) {
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : AllOptions()) {
      if (s.flag == flag) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", flag));
    }
    absl::Status st = spec->set(&options, value);
    if (!st.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --", flag, ": ", st.message()));
    }
  }
  return options;
}

}  // namespace pantau::server
