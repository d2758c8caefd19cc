// Env::Default(): POSIX files with a small user-space write buffer.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/env.h"

namespace pantau::base {
namespace {

absl::Status PosixError(std::string_view what, const std::string& path,
                        int err) {
  std::string msg =
      absl::StrCat(std::string(what), " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(msg);
  if (err == EEXIST) return absl::AlreadyExistsError(msg);
  if (err == ENOSPC) return absl::ResourceExhaustedError(msg);
  return absl::InternalError(msg);
}

class PosixWritableFile : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) (void)Close();
  }

  absl::Status Append(std::string_view data) override {
    size_ += data.size();
    if (buf_.size() + data.size() <= kBufSize) {
      buf_.append(data);
      return absl::OkStatus();
    }
    if (absl::Status s = FlushBuffer(); !s.ok()) return s;
    if (data.size() <= kBufSize) {
      buf_.append(data);
      return absl::OkStatus();
    }
    return WriteAll(data);
  }
  absl::Status Flush() override { return FlushBuffer(); }
  absl::Status Sync() override {
    if (absl::Status s = FlushBuffer(); !s.ok()) return s;
    if (::fdatasync(fd_) != 0) return PosixError("fdatasync", path_, errno);
    return absl::OkStatus();
  }
  absl::Status Close() override {
    if (fd_ < 0) return absl::OkStatus();
    absl::Status s = FlushBuffer();
    if (::close(fd_) != 0 && s.ok()) s = PosixError("close", path_, errno);
    fd_ = -1;
    return s;
  }
  uint64_t Size() const override { return size_; }

 private:
  static constexpr size_t kBufSize = 64 << 10;

  absl::Status FlushBuffer() {
    if (fd_ < 0) return absl::FailedPreconditionError("file closed: " + path_);
    absl::Status s = WriteAll(buf_);
    buf_.clear();
    return s;
  }
  absl::Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return PosixError("write", path_, errno);
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return absl::OkStatus();
  }

  std::string path_;
  int fd_;
  uint64_t size_;
  std::string buf_;
};

class PosixRandomAccessFile : public RandomAccessFile {
 public:
  PosixRandomAccessFile(std::string path, int fd, uint64_t size)
      : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixRandomAccessFile() override { ::close(fd_); }
  absl::Status Read(uint64_t offset, size_t n,
                    std::string* out) const override {
    out->resize(n);
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, out->data() + got, n - got,
                                static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        return PosixError("pread", path_, errno);
      }
      if (r == 0) break;
      got += static_cast<size_t>(r);
    }
    out->resize(got);
    return absl::OkStatus();
  }
  uint64_t Size() const override { return size_; }

 private:
  std::string path_;
  int fd_;
  uint64_t size_;
};

class PosixSequentialFile : public SequentialFile {
 public:
  PosixSequentialFile(std::string path, int fd)
      : path_(std::move(path)), fd_(fd) {}
  ~PosixSequentialFile() override { ::close(fd_); }
  absl::Status Read(size_t n, std::string* out) override {
    out->resize(n);
    while (true) {
      const ssize_t r = ::read(fd_, out->data(), n);
      if (r < 0) {
        if (errno == EINTR) continue;
        out->clear();
        return PosixError("read", path_, errno);
      }
      out->resize(static_cast<size_t>(r));
      return absl::OkStatus();
    }
  }

 private:
  std::string path_;
  int fd_;
};

class PosixFileLock : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }

 private:
  int fd_;
};

class PosixEnv : public Env {
 public:
  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override {
    return Open(path, O_TRUNC);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override {
    return Open(path, O_APPEND);
  }
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      return PosixError("fstat", path, err);
    }
    return std::unique_ptr<RandomAccessFile>(
        new PosixRandomAccessFile(path, fd, static_cast<uint64_t>(st.st_size)));
  }
  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", path, errno);
    return std::unique_ptr<SequentialFile>(new PosixSequentialFile(path, fd));
  }
  bool FileExists(const std::string& path) override {
    return ::access(path.c_str(), F_OK) == 0;
  }
  absl::StatusOr<std::vector<std::string>> GetChildren(
      const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return PosixError("opendir", dir, errno);
    std::vector<std::string> out;
    while (struct dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      out.emplace_back(name);
    }
    ::closedir(d);
    return out;
  }
  absl::Status DeleteFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return PosixError("unlink", path, errno);
    return absl::OkStatus();
  }
  absl::Status CreateDir(const std::string& dir) override {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return PosixError("mkdir", dir, errno);
    }
    return absl::OkStatus();
  }
  absl::Status DeleteDir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return PosixError("rmdir", dir, errno);
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return PosixError("stat", path, errno);
    return static_cast<uint64_t>(st.st_size);
  }
  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return PosixError("rename", from + " -> " + to, errno);
    }
    return absl::OkStatus();
  }
  absl::Status TruncateFile(const std::string& path, uint64_t size) override {
    if (::truncate(path.c_str(), static_cast<off_t>(size)) != 0) {
      return PosixError("truncate", path, errno);
    }
    return absl::OkStatus();
  }
  absl::Status SyncDir(const std::string& dir) override {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return PosixError("open", dir, errno);
    absl::Status s;
    if (::fsync(fd) != 0) s = PosixError("fsync", dir, errno);
    ::close(fd);
    return s;
  }
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError("open", path, errno);
    struct flock fl = {};
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &fl) != 0) {
      const int err = errno;
      ::close(fd);
      return absl::FailedPreconditionError(absl::StrCat(
          "lock ", path, " is held by another process: ", std::strerror(err)));
    }
    return std::unique_ptr<FileLock>(new PosixFileLock(fd));
  }

 private:
  absl::StatusOr<std::unique_ptr<WritableFile>> Open(const std::string& path,
                                                     int mode) {
    const int fd =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | mode, 0644);
    if (fd < 0) return PosixError("open", path, errno);
    uint64_t size = 0;
    if (mode == O_APPEND) {
      struct stat st;
      if (::fstat(fd, &st) == 0) size = static_cast<uint64_t>(st.st_size);
    }
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd, size));
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv;
  return env;
}

}  // namespace pantau::base
