// Env: the file-system interface of every store (LevelDB style), so storage
// code can run on the real disk (Env::Default()), in memory (NewMemEnv) and
// under injected faults (FaultInjectionEnv) without change.
//
// Paths are plain strings joined with '/'. All methods return Status values;
// none throws.
//
// Thread safety: an Env is safe for concurrent use. A file object belongs to
// one thread at a time, except RandomAccessFile::Read, which is safe to call
// concurrently.
#ifndef PANTAU_BASE_ENV_H_
#define PANTAU_BASE_ENV_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pantau::base {

// A file written front to back. Data handed to Append may be buffered in
// the process until Flush (after which it survives the process dying) and
// in the OS until Sync (after which it survives the machine dying).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual absl::Status Append(std::string_view data) = 0;
  virtual absl::Status Flush() = 0;
  // Flushes, then fdatasync.
  virtual absl::Status Sync() = 0;
  // Flushes and closes; the file object is unusable afterwards. The
  // destructor closes without reporting errors.
  virtual absl::Status Close() = 0;
  // Bytes appended so far, including the file's size when it was opened.
  virtual uint64_t Size() const = 0;
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads up to n bytes at offset into *out (fewer at end of file).
  virtual absl::Status Read(uint64_t offset, size_t n,
                            std::string* out) const = 0;
  virtual uint64_t Size() const = 0;
};

class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to n bytes; *out is empty at end of file.
  virtual absl::Status Read(size_t n, std::string* out) = 0;
};

// Held while a process owns a directory; released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Env {
 public:
  virtual ~Env() = default;

  // The POSIX file system; never deleted.
  static Env* Default();

  // Creates or truncates.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) = 0;
  // Creates, or opens for appending at the end.
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  virtual absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) = 0;

  virtual bool FileExists(const std::string& path) = 0;
  // Names (not paths) of the entries of dir, without "." and "..".
  virtual absl::StatusOr<std::vector<std::string>> GetChildren(
      const std::string& dir) = 0;
  virtual absl::Status DeleteFile(const std::string& path) = 0;
  // Succeeds if the directory exists already.
  virtual absl::Status CreateDir(const std::string& dir) = 0;
  // The directory must be empty.
  virtual absl::Status DeleteDir(const std::string& dir) = 0;
  virtual absl::StatusOr<uint64_t> GetFileSize(const std::string& path) = 0;
  // Atomically replaces `to` if it exists.
  virtual absl::Status RenameFile(const std::string& from,
                                  const std::string& to) = 0;
  virtual absl::Status TruncateFile(const std::string& path, uint64_t size) = 0;
  // Makes renames and creations in dir durable.
  virtual absl::Status SyncDir(const std::string& dir) = 0;
  // Fails with FAILED_PRECONDITION if another holder has it.
  virtual absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) = 0;

  // Helpers built on the methods above.
  absl::StatusOr<std::string> ReadFileToString(const std::string& path);
  // Writes to path + ".tmp", syncs, renames over path and syncs the
  // directory.
  absl::Status WriteFileAtomically(const std::string& path,
                                   std::string_view data);
  // Deletes dir and everything below it; OK if it does not exist.
  absl::Status DeleteRecursively(const std::string& dir);
};

// An Env that keeps files in memory (for tests and benchmarks).
std::unique_ptr<Env> NewMemEnv();

// Wraps another Env and injects the faults that storage must survive:
// failing fsync or writes, torn writes, and a "crash" that drops every byte
// not yet synced. It tracks files written through it only.
class FaultInjectionEnv : public Env {
 public:
  explicit FaultInjectionEnv(Env* target);
  ~FaultInjectionEnv() override;

  // The next `n` WritableFile::Sync calls fail with an I/O error.
  void FailNextSyncs(int n);
  // The next `n` WritableFile::Append calls fail; a failing Append writes
  // the first `torn_bytes` bytes of its data first (a torn write).
  void FailNextAppends(int n, size_t torn_bytes = 0);
  // Simulates power loss: truncates every file written through this Env to
  // the size it had at its last successful Sync.
  absl::Status DropUnsyncedData();
  int sync_count() const;

  absl::StatusOr<std::unique_ptr<WritableFile>> NewWritableFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<WritableFile>> NewAppendableFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<SequentialFile>> NewSequentialFile(
      const std::string& path) override;
  bool FileExists(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> GetChildren(
      const std::string& dir) override;
  absl::Status DeleteFile(const std::string& path) override;
  absl::Status CreateDir(const std::string& dir) override;
  absl::Status DeleteDir(const std::string& dir) override;
  absl::StatusOr<uint64_t> GetFileSize(const std::string& path) override;
  absl::Status RenameFile(const std::string& from,
                          const std::string& to) override;
  absl::Status TruncateFile(const std::string& path, uint64_t size) override;
  absl::Status SyncDir(const std::string& dir) override;
  absl::StatusOr<std::unique_ptr<FileLock>> LockFile(
      const std::string& path) override;

  struct State;

 private:
  Env* target_;
  std::unique_ptr<State> state_;
};

}  // namespace pantau::base

#endif  // PANTAU_BASE_ENV_H_
