#include "base/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/status_macros.h"

namespace pantau::base {

absl::StatusOr<std::unique_ptr<MappedFile>> MappedFile::Open(
    Env* env, const std::string& path, bool populate) {
  std::unique_ptr<MappedFile> f(new MappedFile);
  if (env == Env::Default()) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    // An empty file cannot be mapped; it is read below like any failure.
    if (fd >= 0 && ::fstat(fd, &st) == 0 && st.st_size > 0) {
      const size_t size = static_cast<size_t>(st.st_size);
      void* p = ::mmap(nullptr, size, PROT_READ,
                       MAP_PRIVATE | (populate ? MAP_POPULATE : 0), fd, 0);
      if (p != MAP_FAILED) {
        f->map_ = p;
        f->data_ = std::string_view(static_cast<const char*>(p), size);
      }
    }
    if (fd >= 0) ::close(fd);  // the mapping does not need the descriptor
    if (f->map_ != nullptr) return f;
  }
  PANTAU_ASSIGN_OR_RETURN(auto file, env->NewRandomAccessFile(path));
  PANTAU_RETURN_IF_ERROR(file->Read(0, file->Size(), &f->buf_));
  f->data_ = f->buf_;
  return f;
}

MappedFile::~MappedFile() {
  if (map_ != nullptr) ::munmap(map_, data_.size());
}

}  // namespace pantau::base
