// MappedFile: a whole file's bytes, read-only, valid for as long as the
// object lives. On the local file system (Env::Default()) the file is
// mapped, so readers take bytes straight from the page cache with no
// syscall or copy; other Envs (in memory, fault injection) read it whole.
//
// The file must not be truncated or rewritten in place while mapped
// (reading a page past a truncated end is SIGBUS): meant for immutable
// files such as block chunks and checkpoints. Deleting or renaming it is
// fine; the mapping keeps the data until it goes away.
//
// Thread safety: immutable, safe for concurrent reads.
#ifndef PANTAU_BASE_MAPPED_FILE_H_
#define PANTAU_BASE_MAPPED_FILE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/env.h"

namespace pantau::base {

class MappedFile {
 public:
  // `populate`: pre-fault every page now (for files read whole at once).
  static absl::StatusOr<std::unique_ptr<MappedFile>> Open(
      Env* env, const std::string& path, bool populate = false);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view data() const { return data_; }
  size_t size() const { return data_.size(); }
  // Whether the bytes are a mapping (false: a copy in memory).
  bool mapped() const { return map_ != nullptr; }

 private:
  MappedFile() = default;
  std::string buf_;
  void* map_ = nullptr;
  std::string_view data_;
};

}  // namespace pantau::base

#endif  // PANTAU_BASE_MAPPED_FILE_H_
