// FaultInjectionEnv: failing fsync/writes, torn writes and "power loss"
// (dropping unsynced bytes) on top of any Env.
#include <map>

#include "absl/synchronization/mutex.h"
#include "base/env.h"
#include "base/status_macros.h"

namespace pantau::base {

struct FaultInjectionEnv::State {
  absl::Mutex mu;
  int fail_syncs ABSL_GUARDED_BY(mu) = 0;
  int fail_appends ABSL_GUARDED_BY(mu) = 0;
  size_t torn_bytes ABSL_GUARDED_BY(mu) = 0;
  int sync_count ABSL_GUARDED_BY(mu) = 0;
  // Size of each tracked file at its last successful Sync.
  std::map<std::string, uint64_t> synced ABSL_GUARDED_BY(mu);
};

namespace {

class FaultWritableFile : public WritableFile {
 public:
  FaultWritableFile(std::string path, std::unique_ptr<WritableFile> base,
                    FaultInjectionEnv::State* state)
      : path_(std::move(path)), base_(std::move(base)), state_(state) {}

  absl::Status Append(std::string_view data) override {
    size_t torn = 0;
    bool fail = false;
    {
      absl::MutexLock l(&state_->mu);
      if (state_->fail_appends > 0) {
        --state_->fail_appends;
        fail = true;
        torn = std::min(state_->torn_bytes, data.size());
      }
    }
    if (fail) {
      if (torn > 0) {
        PANTAU_RETURN_IF_ERROR(base_->Append(data.substr(0, torn)));
        PANTAU_RETURN_IF_ERROR(base_->Flush());
      }
      return absl::InternalError("injected write failure: " + path_);
    }
    return base_->Append(data);
  }
  absl::Status Flush() override { return base_->Flush(); }
  absl::Status Sync() override {
    {
      absl::MutexLock l(&state_->mu);
      if (state_->fail_syncs > 0) {
        --state_->fail_syncs;
        return absl::InternalError("injected fsync failure: " + path_);
      }
    }
    PANTAU_RETURN_IF_ERROR(base_->Sync());
    absl::MutexLock l(&state_->mu);
    ++state_->sync_count;
    state_->synced[path_] = base_->Size();
    return absl::OkStatus();
  }
  absl::Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  std::string path_;
  std::unique_ptr<WritableFile> base_;
  FaultInjectionEnv::State* state_;
};

}  // namespace

FaultInjectionEnv::FaultInjectionEnv(Env* target)
    : target_(target), state_(std::make_unique<State>()) {}
FaultInjectionEnv::~FaultInjectionEnv() = default;

void FaultInjectionEnv::FailNextSyncs(int n) {
  absl::MutexLock l(&state_->mu);
  state_->fail_syncs = n;
}

void FaultInjectionEnv::FailNextAppends(int n, size_t torn_bytes) {
  absl::MutexLock l(&state_->mu);
  state_->fail_appends = n;
  state_->torn_bytes = torn_bytes;
}

int FaultInjectionEnv::sync_count() const {
  absl::MutexLock l(&state_->mu);
  return state_->sync_count;
}

absl::Status FaultInjectionEnv::DropUnsyncedData() {
  absl::MutexLock l(&state_->mu);
  for (const auto& [path, size] : state_->synced) {
    if (!target_->FileExists(path)) continue;
    PANTAU_ASSIGN_OR_RETURN(uint64_t now, target_->GetFileSize(path));
    if (now > size) PANTAU_RETURN_IF_ERROR(target_->TruncateFile(path, size));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WritableFile>>
FaultInjectionEnv::NewWritableFile(const std::string& path) {
  PANTAU_ASSIGN_OR_RETURN(auto f, target_->NewWritableFile(path));
  {
    absl::MutexLock l(&state_->mu);
    state_->synced[path] = 0;
  }
  return std::unique_ptr<WritableFile>(
      new FaultWritableFile(path, std::move(f), state_.get()));
}

absl::StatusOr<std::unique_ptr<WritableFile>>
FaultInjectionEnv::NewAppendableFile(const std::string& path) {
  PANTAU_ASSIGN_OR_RETURN(auto f, target_->NewAppendableFile(path));
  {
    absl::MutexLock l(&state_->mu);
    if (!state_->synced.contains(path)) state_->synced[path] = f->Size();
  }
  return std::unique_ptr<WritableFile>(
      new FaultWritableFile(path, std::move(f), state_.get()));
}

absl::StatusOr<std::unique_ptr<RandomAccessFile>>
FaultInjectionEnv::NewRandomAccessFile(const std::string& path) {
  return target_->NewRandomAccessFile(path);
}
absl::StatusOr<std::unique_ptr<SequentialFile>>
FaultInjectionEnv::NewSequentialFile(const std::string& path) {
  return target_->NewSequentialFile(path);
}
bool FaultInjectionEnv::FileExists(const std::string& path) {
  return target_->FileExists(path);
}
absl::StatusOr<std::vector<std::string>> FaultInjectionEnv::GetChildren(
    const std::string& dir) {
  return target_->GetChildren(dir);
}
absl::Status FaultInjectionEnv::DeleteFile(const std::string& path) {
  {
    absl::MutexLock l(&state_->mu);
    state_->synced.erase(path);
  }
  return target_->DeleteFile(path);
}
absl::Status FaultInjectionEnv::CreateDir(const std::string& dir) {
  return target_->CreateDir(dir);
}
absl::Status FaultInjectionEnv::DeleteDir(const std::string& dir) {
  return target_->DeleteDir(dir);
}
absl::StatusOr<uint64_t> FaultInjectionEnv::GetFileSize(
    const std::string& path) {
  return target_->GetFileSize(path);
}
absl::Status FaultInjectionEnv::RenameFile(const std::string& from,
                                           const std::string& to) {
  PANTAU_RETURN_IF_ERROR(target_->RenameFile(from, to));
  absl::MutexLock l(&state_->mu);
  auto it = state_->synced.find(from);
  if (it != state_->synced.end()) {
    state_->synced[to] = it->second;
    state_->synced.erase(it);
  }
  return absl::OkStatus();
}
absl::Status FaultInjectionEnv::TruncateFile(const std::string& path,
                                             uint64_t size) {
  PANTAU_RETURN_IF_ERROR(target_->TruncateFile(path, size));
  absl::MutexLock l(&state_->mu);
  auto it = state_->synced.find(path);
  if (it != state_->synced.end() && it->second > size) it->second = size;
  return absl::OkStatus();
}
absl::Status FaultInjectionEnv::SyncDir(const std::string& dir) {
  return target_->SyncDir(dir);
}
absl::StatusOr<std::unique_ptr<FileLock>> FaultInjectionEnv::LockFile(
    const std::string& path) {
  return target_->LockFile(path);
}

}  // namespace pantau::base
