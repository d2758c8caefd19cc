// The Env helpers shared by every implementation.
#include "base/env.h"

#include "base/status_macros.h"

namespace pantau::base {

absl::StatusOr<std::string> Env::ReadFileToString(const std::string& path) {
  PANTAU_ASSIGN_OR_RETURN(auto file, NewSequentialFile(path));
  std::string out, chunk;
  while (true) {
    PANTAU_RETURN_IF_ERROR(file->Read(1 << 20, &chunk));
    if (chunk.empty()) break;
    out.append(chunk);
  }
  return out;
}

absl::Status Env::WriteFileAtomically(const std::string& path,
                                      std::string_view data) {
  const std::string tmp = path + ".tmp";
  {
    PANTAU_ASSIGN_OR_RETURN(auto file, NewWritableFile(tmp));
    PANTAU_RETURN_IF_ERROR(file->Append(data));
    PANTAU_RETURN_IF_ERROR(file->Sync());
    PANTAU_RETURN_IF_ERROR(file->Close());
  }
  PANTAU_RETURN_IF_ERROR(RenameFile(tmp, path));
  const size_t slash = path.rfind('/');
  return SyncDir(slash == std::string::npos ? "." : path.substr(0, slash));
}

absl::Status Env::DeleteRecursively(const std::string& dir) {
  if (!FileExists(dir)) return absl::OkStatus();
  auto children = GetChildren(dir);
  if (!children.ok()) {
    // A plain file.
    return DeleteFile(dir);
  }
  for (const std::string& name : *children) {
    const std::string path = dir + "/" + name;
    if (GetChildren(path).ok()) {
      PANTAU_RETURN_IF_ERROR(DeleteRecursively(path));
    } else {
      PANTAU_RETURN_IF_ERROR(DeleteFile(path));
    }
  }
  return DeleteDir(dir);
}

}  // namespace pantau::base
