// NewMemEnv(): files as strings in a map, for hermetic tests and benchmarks.
#include <map>
#include <set>

#include "absl/synchronization/mutex.h"
#include "base/env.h"

namespace pantau::base {
namespace {

struct MemFile {
  mutable absl::Mutex mu;
  std::string data ABSL_GUARDED_BY(mu);
};

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

class MemWritableFile : public WritableFile {
 public:
  explicit MemWritableFile(std::shared_ptr<MemFile> f) : f_(std::move(f)) {
    absl::MutexLock l(&f_->mu);
    size_ = f_->data.size();
  }
  absl::Status Append(std::string_view data) override {
    absl::MutexLock l(&f_->mu);
    f_->data.append(data);
    size_ += data.size();
    return absl::OkStatus();
  }
  absl::Status Flush() override { return absl::OkStatus(); }
  absl::Status Sync() override { return absl::OkStatus(); }
  absl::Status Close() override { return absl::OkStatus(); }
  uint64_t Size() const override { return size_; }

 private:
  std::shared_ptr<MemFile> f_;
  uint64_t size_ = 0;
};

class MemRandomAccessFile : public RandomAccessFile {
 public:
  explicit MemRandomAccessFile(std::shared_ptr<MemFile> f) : f_(std::move(f)) {}
  absl::Status Read(uint64_t offset, size_t n,
                    std::string* out) const override {
    absl::MutexLock l(&f_->mu);
    if (offset >= f_->data.size()) {
      out->clear();
    } else {
      out->assign(f_->data, offset, n);
    }
    return absl::OkStatus();
  }
  uint64_t Size() const override {
    absl::MutexLock l(&f_->mu);
    return f_->data.size();
  }

 private:
  std::shared_ptr<MemFile> f_;
};

class MemSequentialFile : public SequentialFile {
 public:
  explicit MemSequentialFile(std::shared_ptr<MemFile> f) : f_(std::move(f)) {}
  absl::Status Read(size_t n, std::string* out) override {
    absl::MutexLock l(&f_->mu);
    if (pos_ >= f_->data.size()) {
      out->clear();
    } else {
      out->assign(f_->data, pos_, n);
      pos_ += out->size();
    }
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<MemFile> f_;
  size_t pos_ = 0;
};

class MemEnv;

class MemFileLock : public FileLock {
 public:
  MemFileLock(MemEnv* env, std::string path)
      : env_(env), path_(std::move(path)) {}
  ~MemFileLock() override;

 private:
  MemEnv* env_;
  std::string path_;
};

class MemEnv : public Env {
 public:
  MemEnv() { dirs_.insert(""); }

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override {
    absl::MutexLock l(&mu_);
    if (!dirs_.contains(Parent(path))) return NoDir(path);
    auto f = std::make_shared<MemFile>();
    files_[path] = f;
    return std::unique_ptr<WritableFile>(new MemWritableFile(f));
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    absl::MutexLock l(&mu_);
    if (!dirs_.contains(Parent(path))) return NoDir(path);
    auto& f = files_[path];
    if (f == nullptr) f = std::make_shared<MemFile>();
    return std::unique_ptr<WritableFile>(new MemWritableFile(f));
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    absl::MutexLock l(&mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return absl::NotFoundError("no such file: " + path);
    return std::unique_ptr<RandomAccessFile>(
        new MemRandomAccessFile(it->second));
  }
  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override {
    absl::MutexLock l(&mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return absl::NotFoundError("no such file: " + path);
    return std::unique_ptr<SequentialFile>(new MemSequentialFile(it->second));
  }
  bool FileExists(const std::string& path) override {
    absl::MutexLock l(&mu_);
    return files_.contains(path) || dirs_.contains(path);
  }
  absl::StatusOr<std::vector<std::string>> GetChildren(
      const std::string& dir) override {
    absl::MutexLock l(&mu_);
    if (!dirs_.contains(dir)) return absl::NotFoundError("no such dir: " + dir);
    std::vector<std::string> out;
    const std::string prefix = dir + "/";
    for (const auto& [p, f] : files_) {
      if (Parent(p) == dir) out.push_back(p.substr(prefix.size()));
    }
    for (const std::string& d : dirs_) {
      if (!d.empty() && d != dir && Parent(d) == dir) {
        out.push_back(d.substr(prefix.size()));
      }
    }
    return out;
  }
  absl::Status DeleteFile(const std::string& path) override {
    absl::MutexLock l(&mu_);
    if (files_.erase(path) == 0) {
      return absl::NotFoundError("no such file: " + path);
    }
    return absl::OkStatus();
  }
  absl::Status CreateDir(const std::string& dir) override {
    absl::MutexLock l(&mu_);
    if (!dirs_.contains(Parent(dir))) return NoDir(dir);
    dirs_.insert(dir);
    return absl::OkStatus();
  }
  absl::Status DeleteDir(const std::string& dir) override {
    absl::MutexLock l(&mu_);
    if (!dirs_.contains(dir)) return absl::NotFoundError("no such dir: " + dir);
    for (const auto& [p, f] : files_) {
      if (Parent(p) == dir) return absl::FailedPreconditionError("not empty");
    }
    for (const std::string& d : dirs_) {
      if (d != dir && Parent(d) == dir) {
        return absl::FailedPreconditionError("not empty");
      }
    }
    dirs_.erase(dir);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    absl::MutexLock l(&mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return absl::NotFoundError("no such file: " + path);
    absl::MutexLock fl(&it->second->mu);
    return it->second->data.size();
  }
  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override {
    absl::MutexLock l(&mu_);
    if (auto it = files_.find(from); it != files_.end()) {
      files_[to] = it->second;
      files_.erase(from);
      return absl::OkStatus();
    }
    if (!dirs_.contains(from)) return absl::NotFoundError("no such: " + from);
    // Move a directory and everything below it.
    const std::string prefix = from + "/";
    std::map<std::string, std::shared_ptr<MemFile>> moved;
    for (auto it = files_.begin(); it != files_.end();) {
      if (it->first.starts_with(prefix)) {
        moved[to + "/" + it->first.substr(prefix.size())] = it->second;
        it = files_.erase(it);
      } else {
        ++it;
      }
    }
    files_.merge(moved);
    std::set<std::string> dirs;
    for (auto it = dirs_.begin(); it != dirs_.end();) {
      if (*it == from || it->starts_with(prefix)) {
        dirs.insert(to + it->substr(from.size()));
        it = dirs_.erase(it);
      } else {
        ++it;
      }
    }
    dirs_.merge(dirs);
    return absl::OkStatus();
  }
  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    absl::MutexLock l(&mu_);
    auto it = files_.find(path);
    if (it == files_.end()) return absl::NotFoundError("no such file: " + path);
    absl::MutexLock fl(&it->second->mu);
    it->second->data.resize(size);
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string& dir) override {
    return absl::OkStatus();
  }
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) override {
    absl::MutexLock l(&mu_);
    if (!locks_.insert(path).second) {
      return absl::FailedPreconditionError("lock " + path + " is held");
    }
    return std::unique_ptr<FileLock>(new MemFileLock(this, path));
  }

  void Unlock(const std::string& path) {
    absl::MutexLock l(&mu_);
    locks_.erase(path);
  }

 private:
  static absl::Status NoDir(const std::string& path) {
    return absl::NotFoundError("no parent directory for " + path);
  }

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<MemFile>> files_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> dirs_ ABSL_GUARDED_BY(mu_);
  std::set<std::string> locks_ ABSL_GUARDED_BY(mu_);
};

MemFileLock::~MemFileLock() { env_->Unlock(path_); }

}  // namespace

std::unique_ptr<Env> NewMemEnv() { return std::make_unique<MemEnv>(); }

}  // namespace pantau::base
